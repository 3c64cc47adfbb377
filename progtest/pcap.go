package progtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Limits on a capture given as a test input.
const (
	MaxCaptureSize = 4 << 20 // bytes of one capture file
	MaxPackets     = 1024    // packets of one capture
	MaxPacketSize  = 65535   // bytes of one packet: BPF_PROG_RUN takes at most a page for XDP, 64 KiB for skb programs
	maxSnaplen     = 262144  // tcpdump's default snapshot length; larger headers are refused before any allocation
)

// CaptureError is a capture that cannot be used as a test input. Packet
// is the 1-based packet at fault, or 0 for the file.
type CaptureError struct {
	Packet int
	Err    error
}

func (e *CaptureError) Error() string {
	if e.Packet > 0 {
		return fmt.Sprintf("packet %d: %v", e.Packet, e.Err)
	}
	return e.Err.Error()
}

func (e *CaptureError) Unwrap() error { return e.Err }

// ReadPackets returns the packets of a capture, in order: a pcap file (as
// tcpdump -w writes, microsecond or nanosecond, either byte order) or
// pcapng, read with gopacket's pcapgo. The link type must be Ethernet,
// as the programs BPF_PROG_RUN gives a packet to see it. Compressed
// captures, truncated packets (captured shorter than they were) and
// anything over the limits are refused; a hostile file never makes it
// allocate more than the file's own size.
func ReadPackets(data []byte) (pkts [][]byte, err error) {
	defer func() {
		if r := recover(); r != nil { // pcapgo is not ours
			pkts, err = nil, &CaptureError{Err: fmt.Errorf("the capture crashed the reader: %v", r)}
		}
	}()
	if len(data) > MaxCaptureSize {
		return nil, &CaptureError{Err: fmt.Errorf("%d bytes, over the %d-byte limit", len(data), MaxCaptureSize)}
	}
	if len(data) < 4 {
		return nil, &CaptureError{Err: errors.New("too short for a capture: write it with tcpdump -w FILE")}
	}
	var src gopacket.PacketDataSource // pcapgo's Reader or NgReader
	var link layers.LinkType
	switch {
	case data[0] == 0x1f && data[1] == 0x8b:
		return nil, &CaptureError{Err: errors.New("a compressed capture: gunzip it first")}
	case binary.LittleEndian.Uint32(data) == 0x0a0d0d0a:
		if err := checkPcapngBlocks(data); err != nil {
			return nil, &CaptureError{Err: err}
		}
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{})
		if err != nil {
			return nil, &CaptureError{Err: fmt.Errorf("not a pcapng capture: %v", err)}
		}
		src, link = r, r.LinkType()
	default:
		var order binary.ByteOrder
		switch binary.BigEndian.Uint32(data) {
		case 0xa1b2c3d4, 0xa1b23c4d:
			order = binary.BigEndian
		case 0xd4c3b2a1, 0x4d3cb2a1:
			order = binary.LittleEndian
		}
		if order != nil && len(data) >= 24 {
			if snap := order.Uint32(data[16:20]); snap > maxSnaplen {
				return nil, &CaptureError{Err: fmt.Errorf("snapshot length %d in the file header, over %d: capture with tcpdump -s %d or less", snap, maxSnaplen, MaxPacketSize)}
			}
		}
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, &CaptureError{Err: fmt.Errorf("not a pcap or pcapng capture: %v", err)}
		}
		src, link = r, r.LinkType()
	}
	if link != layers.LinkTypeEthernet {
		return nil, &CaptureError{Err: fmt.Errorf("link type %s: test inputs are Ethernet frames (capture on an Ethernet or veth interface, not -i any)", link)}
	}
	for {
		d, ci, err := src.ReadPacketData()
		capLen, origLen := ci.CaptureLength, ci.Length
		if errors.Is(err, io.EOF) {
			break
		}
		n := len(pkts) + 1
		if err != nil {
			return nil, &CaptureError{Packet: n, Err: fmt.Errorf("%v (a truncated or corrupt capture)", err)}
		}
		if n > MaxPackets {
			return nil, &CaptureError{Err: fmt.Errorf("more than %d packets", MaxPackets)}
		}
		switch {
		case capLen < origLen:
			return nil, &CaptureError{Packet: n, Err: fmt.Errorf("captured %d of its %d bytes: capture with a larger snapshot length (tcpdump -s 0)", capLen, origLen)}
		case len(d) > MaxPacketSize:
			return nil, &CaptureError{Packet: n, Err: fmt.Errorf("%d bytes, over the %d-byte limit", len(d), MaxPacketSize)}
		case len(d) < 14:
			return nil, &CaptureError{Packet: n, Err: fmt.Errorf("%d bytes: shorter than an Ethernet header", len(d))}
		}
		pkts = append(pkts, d)
	}
	if len(pkts) == 0 {
		return nil, &CaptureError{Err: errors.New("the capture holds no packets")}
	}
	return pkts, nil
}

// checkPcapngBlocks walks the blocks of a pcapng file and refuses one
// whose length does not fit what is left, before pcapgo allocates what
// a length claims.
func checkPcapngBlocks(data []byte) error {
	if len(data) < 12 {
		return errors.New("a truncated pcapng section header")
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(data[8:12]) {
	case 0x1a2b3c4d:
		order = binary.LittleEndian
	case 0x4d3c2b1a:
		order = binary.BigEndian
	default:
		return errors.New("pcapng section header: unknown byte-order magic")
	}
	for off, n := 0, 1; off < len(data); n++ {
		if len(data)-off < 12 {
			return fmt.Errorf("pcapng block %d: truncated", n)
		}
		l := int(order.Uint32(data[off+4 : off+8]))
		if l < 12 || l%4 != 0 || l > len(data)-off {
			return fmt.Errorf("pcapng block %d: length %d does not fit the %d bytes left", n, l, len(data)-off)
		}
		off += l
	}
	return nil
}
