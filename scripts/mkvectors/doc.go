// Command mkvectors writes the packet captures of the example packages'
// test vectors (testdata/packages/*/tests/*.pcap): the frames an author
// would capture with tcpdump -w, made here with gopacket so that they are
// the same bytes on every run. `make testdata-vectors` runs it; the
// captures are committed.
package main
