//! Golden renderings: the exact nft text of the model.
use ruleset::sample::*;
use ruleset::*;

#[test]
fn golden_ip_table() {
    let text = agent_like(Family::Ip).to_string();
    let want = r#"table ip routeagent {
	set local-v4 {
		type ipv4_addr
		flags interval
		elements = { 10.96.0.0/12, 10.244.0.0/16 }
	}

	set remote-v4 {
		type ipv4_addr
		flags interval
		elements = { 10.112.0.0/12, 10.245.0.0/16 }
	}

	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 4800 counter accept comment "vxlan from cluster nodes"
	}

	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		oifname "vx-submariner" accept
		iifname "vx-submariner" accept
	}

	chain postrouting {
		type nat hook postrouting priority srcnat - 10; policy accept;
		jump no-masq
	}

	chain no-masq {
		ip saddr 240.0.0.0/8 oifname "vx-submariner" snat to 10.244.1.1
		ip saddr @local-v4 ip daddr @remote-v4 counter snat to ip saddr
		ip saddr @remote-v4 ip daddr @local-v4 accept
		ip daddr != 192.0.2.7 return
	}

	chain mss {
		type filter hook postrouting priority mangle; policy accept;
		ip saddr @local-v4 ip daddr @remote-v4 tcp flags syn / syn,rst tcp option maxseg size set rt mtu
		ip saddr @remote-v4 ip daddr @local-v4 tcp flags syn / syn,rst tcp option maxseg size set 1360
	}

	chain set-mark {
		type route hook output priority mangle; policy accept;
		meta mark & 0x000f0000 != 0x00080000 meta mark set meta mark & 0xfff8ffff | 0x00080000
	}
}
"#;
    assert_eq!(text, want, "got:\n{text}");
}

#[test]
fn inet_nat_statements_name_the_family() {
    let text = agent_like(Family::Inet).to_string();
    assert!(text.contains("snat ip to 10.244.1.1"), "{text}");
    assert!(text.contains("snat ip to ip saddr"), "{text}");
}

#[test]
fn replace_script_creates_then_deletes_then_defines() {
    let s = render::replace_script(&agent_like(Family::Ip));
    assert!(
        s.starts_with("table ip routeagent\ndelete table ip routeagent\ntable ip routeagent {\n"),
        "{s}"
    );
}
