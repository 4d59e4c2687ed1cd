//! CIDR blocks as address ranges.
//!
//! Destinations are compared as ranges of addresses, never as strings, so that
//! `0.0.0.0/0`, `10.0.0.0/0`, `::/0`, `::0/0` and `0:0:0:0:0:0:0:0/0` all mean
//! the whole space of their family. Host bits below the prefix are ignored, as
//! AWS ignores them.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    /// The highest address of the family, as a number.
    pub fn max_address(self) -> u128 {
        match self {
            Family::Ipv4 => u32::MAX as u128,
            Family::Ipv6 => u128::MAX,
        }
    }

    pub fn bits(self) -> u8 {
        match self {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

/// A parsed CIDR block: its family and the inclusive range of addresses it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub family: Family,
    pub first: u128,
    pub last: u128,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `address/prefix`. Returns `None` for anything else: a missing
    /// prefix, a prefix too long for the family, white space, a zone index,
    /// or an address that does not parse.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.split_once('/')?;
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let (family, value) = if let Ok(v4) = address.parse::<Ipv4Addr>() {
            (Family::Ipv4, u32::from(v4) as u128)
        } else if let Ok(v6) = address.parse::<Ipv6Addr>() {
            (Family::Ipv6, u128::from(v6))
        } else {
            return None;
        };
        Cidr::from_parts(family, value, prefix)
    }

    /// The block of `prefix` bits that holds `address` (host bits are dropped).
    pub fn from_parts(family: Family, address: u128, prefix: u8) -> Option<Cidr> {
        let bits = family.bits();
        if prefix > bits {
            return None;
        }
        let host_bits = u32::from(bits - prefix);
        let host_mask: u128 = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let first = address & !host_mask & family.max_address();
        Some(Cidr {
            family,
            first,
            last: first | host_mask,
            prefix,
        })
    }

    /// True when the block is the whole address space of its family.
    pub fn is_whole_space(&self) -> bool {
        self.prefix == 0
    }

    /// True when `other` lies inside this block.
    pub fn contains(&self, other: &Cidr) -> bool {
        self.family == other.family && self.first <= other.first && other.last <= self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_space_in_every_spelling() {
        for text in [
            "0.0.0.0/0",
            "10.0.0.0/0",
            "255.255.255.255/0",
            "::/0",
            "::0/0",
            "0:0:0:0:0:0:0:0/0",
            "2001:db8::/0",
        ] {
            let cidr = Cidr::parse(text).unwrap_or_else(|| panic!("{text} should parse"));
            assert!(cidr.is_whole_space(), "{text}");
            assert_eq!(cidr.first, 0, "{text}");
            assert_eq!(cidr.last, cidr.family.max_address(), "{text}");
        }
    }

    #[test]
    fn host_bits_are_dropped() {
        let cidr = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(cidr.first, u32::from(Ipv4Addr::new(10, 0, 0, 0)) as u128);
        assert_eq!(
            cidr.last,
            u32::from(Ipv4Addr::new(10, 255, 255, 255)) as u128
        );
        let v6 = Cidr::parse("2001:db8::1/32").unwrap();
        assert_eq!(
            v6.first,
            u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap())
        );
    }

    #[test]
    fn host_routes() {
        let v4 = Cidr::parse("203.0.113.5/32").unwrap();
        assert_eq!(v4.first, v4.last);
        let v6 = Cidr::parse("::1/128").unwrap();
        assert_eq!(v6.first, 1);
        assert_eq!(v6.last, 1);
    }

    #[test]
    fn malformed_blocks_do_not_parse() {
        for text in [
            "",
            "0.0.0.0",
            "0.0.0.0/",
            "0.0.0.0/33",
            "::/129",
            " 0.0.0.0/0",
            "0.0.0.0/0 ",
            "0.0.0.0/+0",
            "0.0.0.0/-0",
            "256.0.0.0/8",
            "fe80::1%eth0/64",
            "0.0.0.0/0/0",
            "localhost/0",
            "0.0.0.0/1000",
            "010.0.0.0/8",
        ] {
            assert_eq!(Cidr::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn containment() {
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        let half = Cidr::parse("128.0.0.0/1").unwrap();
        let v6 = Cidr::parse("::/0").unwrap();
        assert!(all.contains(&half));
        assert!(!half.contains(&all));
        assert!(!v6.contains(&half));
    }
}
