//! packetfilter-iptables (being written).
