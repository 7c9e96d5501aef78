//! packetfilter-nftables (being written).
