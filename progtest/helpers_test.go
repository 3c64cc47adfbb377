package progtest

import (
	"bytes"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func TestMain(m *testing.M) {
	Serve()
	os.Exit(m.Run())
}

// tcpFrame builds an Ethernet/IPv4 (or IPv6)/TCP frame.
type tcpFrame struct {
	v6            bool
	src, dst      string
	sport, dport  uint16
	syn, ack, fin bool
	payload       []byte
	udp           bool // a UDP datagram instead
}

func (f tcpFrame) bytes(t testing.TB) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	var ip gopacket.NetworkLayer
	proto := layers.IPProtocolTCP
	if f.udp {
		proto = layers.IPProtocolUDP
	}
	src, dst := f.src, f.dst
	if src == "" {
		src, dst = "10.0.0.1", "10.0.0.2"
		if f.v6 {
			src, dst = "fd00::1", "fd00::2"
		}
	}
	var ls []gopacket.SerializableLayer
	if f.v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
		ip, ls = ip6, []gopacket.SerializableLayer{eth, ip6}
	} else {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
		ip, ls = ip4, []gopacket.SerializableLayer{eth, ip4}
	}
	if f.udp {
		udp := &layers.UDP{SrcPort: layers.UDPPort(f.sport), DstPort: layers.UDPPort(f.dport)}
		_ = udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, udp)
	} else {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(f.sport), DstPort: layers.TCPPort(f.dport), SYN: f.syn, ACK: f.ack, FIN: f.fin, Window: 64240}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, tcp)
	}
	ls = append(ls, gopacket.Payload(f.payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pcapOf writes frames as a pcap capture, as tcpdump -w does.
func pcapOf(t testing.TB, frames ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
