package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkvectors:", err)
		os.Exit(1)
	}
}

// frame is one Ethernet frame: IPv4 or IPv6, then TCP, UDP or ICMP (or
// ARP), with a payload.
type frame struct {
	v6, udp, icmp, arp bool
	sport, dport       uint16
	syn, ack, fin      bool
	payload            int
	src                string
}

func (f frame) bytes() ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}, DstMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}, EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	if f.arp {
		eth.EthernetType = layers.EthernetTypeARP
		ls = append(ls, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: eth.SrcMAC, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 2}})
		return serialize(ls)
	}
	proto := layers.IPProtocolTCP
	switch {
	case f.udp:
		proto = layers.IPProtocolUDP
	case f.icmp && f.v6:
		proto = layers.IPProtocolICMPv6
	case f.icmp:
		proto = layers.IPProtocolICMPv4
	}
	src := f.src
	var ip gopacket.NetworkLayer
	if f.v6 {
		if src == "" {
			src = "fd00::1"
		}
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.ParseIP(src), DstIP: net.ParseIP("fd00::2")}
		ip = ip6
		ls = append(ls, ip6)
	} else {
		if src == "" {
			src = "10.0.0.1"
		}
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.IPv4(10, 0, 0, 2).To4()}
		ip = ip4
		ls = append(ls, ip4)
	}
	switch {
	case f.udp:
		u := &layers.UDP{SrcPort: layers.UDPPort(f.sport), DstPort: layers.UDPPort(f.dport)}
		_ = u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, u)
	case f.icmp && f.v6:
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
		_ = ic.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ic)
	case f.icmp:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1})
	default:
		t := &layers.TCP{SrcPort: layers.TCPPort(f.sport), DstPort: layers.TCPPort(f.dport), SYN: f.syn, ACK: f.ack, FIN: f.fin, Seq: 1000, Window: 64240}
		if f.ack {
			t.Ack = 2000
		}
		_ = t.SetNetworkLayerForChecksum(ip)
		ls = append(ls, t)
	}
	ls = append(ls, gopacket.Payload(bytes.Repeat([]byte{'x'}, f.payload)))
	return serialize(ls)
}

func serialize(ls []gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...)
	return buf.Bytes(), err
}

// captures are the files written, by path under testdata/packages.
var captures = map[string][]frame{
	"syn-80.pcap":  {{sport: 40000, dport: 80, syn: true}},
	"syn6-80.pcap": {{v6: true, sport: 40000, dport: 80, syn: true}},
	"other.pcap": {
		{sport: 40000, dport: 443, syn: true},           // a SYN to a port not limited
		{sport: 40000, dport: 80, ack: true},            // not a SYN
		{sport: 40000, dport: 80, syn: true, ack: true}, // a SYN-ACK
		{udp: true, sport: 5353, dport: 80, payload: 20},
		{icmp: true, payload: 8},
	},
	"three-syns.pcap": {{sport: 40001, dport: 80, syn: true}, {sport: 40002, dport: 80, syn: true}, {sport: 40003, dport: 80, syn: true}},
	"syn-fin-80.pcap": {{sport: 40000, dport: 80, syn: true}, {sport: 40000, dport: 80, fin: true, ack: true}},
	"syn-443.pcap":    {{sport: 40000, dport: 443, syn: true}},
	"mixed.pcap": {
		{sport: 40000, dport: 443, ack: true, payload: 100}, // TCP
		{udp: true, sport: 5353, dport: 53, payload: 30},    // UDP
		{v6: true, icmp: true, payload: 8},                  // ICMPv6
		{arp: true},                                         // neither: "other"
	},
}

// packages says which captures each example package's vectors use.
var packages = map[string][]string{
	"ratelimiting-1.0.0":      {"syn-80.pcap", "syn6-80.pcap", "other.pcap"},
	"ratelimiting-1.1.0":      {"syn-80.pcap", "syn6-80.pcap", "other.pcap"},
	"ratelimiting-2.0.0-rc.1": {"syn-80.pcap", "syn6-80.pcap", "other.pcap"},
	"connection-limit":        {"syn-80.pcap", "three-syns.pcap", "syn-fin-80.pcap", "syn-443.pcap"},
	"xdp-root":                {"other.pcap"},
	"tc-stats":                {"mixed.pcap"},
}

func run(args []string) error {
	root := "testdata/packages"
	if len(args) > 0 {
		root = args[0]
	}
	for pkg, files := range packages {
		dir := filepath.Join(root, pkg, "tests")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, name := range files {
			data, err := capture(captures[name])
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// capture writes frames as tcpdump -w would (pcap, microseconds,
// Ethernet), one second apart from a fixed time.
func capture(frames []frame) ([]byte, error) {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	for i, f := range frames {
		data, err := f.bytes()
		if err != nil {
			return nil, err
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1764547200+int64(i), 0), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
