package progtest

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func TestReadPackets(t *testing.T) {
	a := tcpFrame{sport: 1000, dport: 80, syn: true}.bytes(t)
	b := tcpFrame{sport: 1001, dport: 443, udp: true}.bytes(t)
	got, err := ReadPackets(pcapOf(t, a, b))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]byte{a, b}, got); diff != "" {
		t.Errorf("pcap (-want +got):\n%s", diff)
	}

	var ng bytes.Buffer
	w, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(a), Length: len(a)}, a); err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	got, err = ReadPackets(ng.Bytes())
	if err != nil {
		t.Fatalf("pcapng: %v", err)
	}
	if diff := cmp.Diff([][]byte{a}, got); diff != "" {
		t.Errorf("pcapng (-want +got):\n%s", diff)
	}
}

func TestReadPacketsRefuses(t *testing.T) {
	frame := tcpFrame{dport: 80, syn: true}.bytes(t)
	good := pcapOf(t, frame)
	hugeSnap := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeSnap[16:20], 1<<31)
	truncated := good[:len(good)-5]
	linux := bytes.Clone(good)
	binary.LittleEndian.PutUint32(linux[20:24], uint32(layers.LinkTypeLinuxSLL))
	short := pcapOf(t, frame[:10])
	var partial bytes.Buffer
	w := pcapgo.NewWriter(&partial)
	_ = w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	_ = w.WritePacket(gopacket.CaptureInfo{CaptureLength: 20, Length: len(frame)}, frame[:20])
	ngBad := []byte{0x0a, 0x0d, 0x0d, 0x0a, 0xff, 0xff, 0xff, 0x7f, 0x4d, 0x3c, 0x2b, 0x1a, 0, 0, 0, 0}

	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "too short"},
		{"not a capture", "hello, world, this is text", "not a pcap"},
		{"gzip", "\x1f\x8b\x08\x00rest", "compressed"},
		{"huge snaplen", string(hugeSnap), "snapshot length 2147483648"},
		{"truncated", string(truncated), "packet 1: unexpected EOF"},
		{"not ethernet", string(linux), "link type"},
		{"shorter than ethernet", string(short), "shorter than an Ethernet header"},
		{"cut short by snaplen", string(partial.Bytes()), "captured 20 of its"},
		{"no packets", string(good[:24]), "no packets"},
		{"pcapng block too long", string(ngBad), "does not fit"},
		{"too large", strings.Repeat("x", MaxCaptureSize+1), "over the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPackets([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadPackets = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzReadPackets(f *testing.F) {
	f.Add(pcapOf(f, tcpFrame{dport: 80, syn: true}.bytes(f)))
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a})
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, err := ReadPackets(data)
		if err != nil {
			return
		}
		total := 0
		for _, p := range pkts {
			if len(p) < 14 || len(p) > MaxPacketSize {
				t.Fatalf("packet of %d bytes accepted", len(p))
			}
			total += len(p)
		}
		if total > len(data) {
			t.Fatalf("%d packet bytes out of a %d-byte file", total, len(data))
		}
	})
}
