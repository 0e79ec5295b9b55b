//! IP address sets: normalised, sorted, disjoint inclusive ranges, kept apart for IPv4 and
//! IPv6, with the wire formatting Tailscale uses in `SrcIPs` and `DstPorts.IP`.
//!
//! Wire form of one maximal range: a single address is written bare (`100.64.0.1`, never
//! `/32`), a CIDR-aligned block as a CIDR (`10.0.0.0/8`), anything else as `first-last`
//! (`100.64.0.0-100.115.91.255`). `*` stands for every address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::goquote::quote;

/// The Tailscale IPv4 range, CGNAT `100.64.0.0/10`.
pub const CGNAT_V4: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
/// The ChromeOS range `100.115.92.0/23`, carved out of the Tailscale IPv4 range.
pub const CHROMEOS_V4: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 115, 92, 0), 23);
/// The Tailscale IPv6 range, `fd7a:115c:a1e0::/48`.
pub const TAILNET_V6: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 0), 48);
/// The Tailscale service range holding the quad-100 address, `100.100.100.0/24`.
pub const QUAD100_V4: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 100, 100, 0), 24);

/// IPv4 blocks that `autogroup:internet` leaves out: private, CGNAT and link-local.
const NON_INTERNET_V4: [Ipv4Net; 5] = [
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    CGNAT_V4,
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
];
/// Global unicast IPv6, `2000::/3`: the IPv6 part of `autogroup:internet`.
const INTERNET_V6: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Why an address string or range was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrError {
    /// Not an IP address, CIDR prefix, range or `*`.
    #[error("{}: invalid address", quote(.0))]
    Invalid(String),
    /// The two ends of a range are of different families.
    #[error("ip range {}: both ends must be of the same address family", quote(.0))]
    MixedFamilies(String),
    /// The first address of a range is after the last.
    #[error("ip range {}: first address is greater than last address", quote(.0))]
    Inverted(String),
}

// ---------------------------------------------------------------------------------------
// Range arithmetic, generic over the address width.

trait Bits: Copy + Ord + fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    const WIDTH: u32;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
    fn trailing_zeros(self) -> u32;
    fn leading_zeros(self) -> u32;
    /// `self - other + 1`, or `None` when the range is the whole space.
    fn span_len(first: Self, last: Self) -> Option<Self>;
    fn is_power_of_two(self) -> bool;
    fn and_low_bits(self, bits: u32) -> Self;
    fn add_pow2(self, bits: u32) -> Option<Self>;
    fn is_zero(self) -> bool;
}

macro_rules! impl_bits {
    ($t:ty) => {
        impl Bits for $t {
            const MIN: Self = 0;
            const MAX: Self = <$t>::MAX;
            const WIDTH: u32 = <$t>::BITS;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
            fn trailing_zeros(self) -> u32 {
                <$t>::trailing_zeros(self)
            }
            fn leading_zeros(self) -> u32 {
                <$t>::leading_zeros(self)
            }
            fn span_len(first: Self, last: Self) -> Option<Self> {
                last.checked_sub(first).and_then(|d| d.checked_add(1))
            }
            fn is_power_of_two(self) -> bool {
                <$t>::is_power_of_two(self)
            }
            fn and_low_bits(self, bits: u32) -> Self {
                if bits >= <$t>::BITS {
                    self
                } else {
                    self & ((1 << bits) - 1)
                }
            }
            fn add_pow2(self, bits: u32) -> Option<Self> {
                if bits >= <$t>::BITS {
                    None
                } else {
                    self.checked_add(1 << bits)
                }
            }
            fn is_zero(self) -> bool {
                self == 0
            }
        }
    };
}

impl_bits!(u32);
impl_bits!(u128);

/// Sorts and merges overlapping or adjacent ranges. Ranges with `first > last` are dropped.
fn normalize<T: Bits>(mut v: Vec<(T, T)>) -> Vec<(T, T)> {
    v.retain(|&(a, b)| a <= b);
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        if let Some(last) = out.last_mut() {
            // Adjacent when `a == last.1 + 1`; when `last.1` is MAX everything overlaps.
            let touches = match last.1.succ() {
                Some(next) => a <= next,
                None => true,
            };
            if touches {
                if b > last.1 {
                    last.1 = b;
                }
                continue;
            }
        }
        out.push((a, b));
    }
    out
}

fn union<T: Bits>(x: &[(T, T)], y: &[(T, T)]) -> Vec<(T, T)> {
    let mut v = Vec::with_capacity(x.len() + y.len());
    v.extend_from_slice(x);
    v.extend_from_slice(y);
    normalize(v)
}

fn intersection<T: Bits>(x: &[(T, T)], y: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (x.iter().peekable(), y.iter().peekable());
    while let (Some(&&(a1, b1)), Some(&&(a2, b2))) = (i.peek(), j.peek()) {
        let lo = a1.max(a2);
        let hi = b1.min(b2);
        if lo <= hi {
            out.push((lo, hi));
        }
        if b1 < b2 {
            i.next();
        } else {
            j.next();
        }
    }
    out
}

fn difference<T: Bits>(x: &[(T, T)], y: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut sub = y.iter().peekable();
    for &(a, b) in x {
        let mut cur = Some(a);
        // Skip subtrahend ranges entirely below this range.
        while let Some(&&(_, sb)) = sub.peek() {
            if sb < a {
                sub.next();
            } else {
                break;
            }
        }
        let mut k = sub.clone();
        while let (Some(start), Some(&&(sa, sb))) = (cur, k.peek()) {
            if sa > b {
                break;
            }
            if sa > start {
                // `sa > start >= MIN`, so `sa - 1` exists.
                if let Some(p) = sa.pred() {
                    out.push((start, p));
                }
            }
            cur = if sb >= b {
                None
            } else {
                sb.succ().map(|n| n.max(start))
            };
            if sb > b {
                break;
            }
            k.next();
        }
        if let Some(start) = cur {
            out.push((start, b));
        }
    }
    out
}

fn contains<T: Bits>(x: &[(T, T)], v: T) -> bool {
    let idx = x.partition_point(|&(_, b)| b < v);
    x.get(idx).is_some_and(|&(a, _)| a <= v)
}

fn overlaps_range<T: Bits>(x: &[(T, T)], lo: T, hi: T) -> bool {
    let idx = x.partition_point(|&(_, b)| b < lo);
    x.get(idx).is_some_and(|&(a, _)| a <= hi)
}

fn covers_range<T: Bits>(x: &[(T, T)], lo: T, hi: T) -> bool {
    let idx = x.partition_point(|&(_, b)| b < lo);
    x.get(idx).is_some_and(|&(a, b)| a <= lo && hi <= b)
}

fn overlaps<T: Bits>(x: &[(T, T)], y: &[(T, T)]) -> bool {
    let (mut i, mut j) = (x.iter().peekable(), y.iter().peekable());
    while let (Some(&&(a1, b1)), Some(&&(a2, b2))) = (i.peek(), j.peek()) {
        if a1.max(a2) <= b1.min(b2) {
            return true;
        }
        if b1 < b2 {
            i.next();
        } else {
            j.next();
        }
    }
    false
}

fn is_subset<T: Bits>(x: &[(T, T)], y: &[(T, T)]) -> bool {
    x.iter().all(|&(a, b)| covers_range(y, a, b))
}

/// The prefix length when `[first, last]` is exactly one CIDR block.
fn single_prefix<T: Bits>(first: T, last: T) -> Option<u32> {
    match T::span_len(first, last) {
        None => (first == T::MIN && last == T::MAX).then_some(0),
        Some(len) => {
            let bits = len.trailing_zeros();
            (len.is_power_of_two() && first.and_low_bits(bits).is_zero()).then_some(T::WIDTH - bits)
        }
    }
}

/// The minimal CIDR cover of `[first, last]`, as (network, prefix length).
fn prefixes_of<T: Bits>(first: T, last: T) -> Vec<(T, u32)> {
    let mut out = Vec::new();
    if first > last {
        return out;
    }
    let mut a = first;
    loop {
        let Some(len) = T::span_len(a, last) else {
            // The whole address space.
            out.push((a, 0));
            return out;
        };
        let align = if a.is_zero() {
            T::WIDTH
        } else {
            a.trailing_zeros()
        };
        // floor(log2(len)); len >= 1.
        let fit = T::WIDTH - 1 - len.leading_zeros();
        let bits = align.min(fit);
        out.push((a, T::WIDTH - bits));
        match a.add_pow2(bits) {
            Some(next) if next <= last => a = next,
            _ => return out,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Public types.

/// One inclusive address range `first..=last`, both ends of the same family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange {
    first: IpAddr,
    last: IpAddr,
}

impl IpRange {
    /// A range from `first` to `last` inclusive.
    pub fn new(first: IpAddr, last: IpAddr) -> Result<Self, AddrError> {
        match (first, last) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                if first <= last {
                    Ok(Self { first, last })
                } else {
                    Err(AddrError::Inverted(format!("{first}-{last}")))
                }
            }
            _ => Err(AddrError::MixedFamilies(format!("{first}-{last}"))),
        }
    }

    /// A range holding one address.
    pub fn single(addr: IpAddr) -> Self {
        Self {
            first: addr,
            last: addr,
        }
    }

    /// The range `net` covers (host bits of its address are ignored).
    pub fn from_net(net: &IpNet) -> Self {
        Self {
            first: net.network(),
            last: net.broadcast(),
        }
    }

    pub fn first(&self) -> IpAddr {
        self.first
    }

    pub fn last(&self) -> IpAddr {
        self.last
    }

    /// True when the range holds exactly one address.
    pub fn is_single(&self) -> bool {
        self.first == self.last
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.first <= addr && addr <= self.last && addr.is_ipv4() == self.first.is_ipv4()
    }

    /// The range as one CIDR prefix, when it is exactly one.
    pub fn as_net(&self) -> Option<IpNet> {
        match (self.first, self.last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => single_prefix(u32::from(a), u32::from(b))
                .and_then(|len| Ipv4Net::new(a, len as u8).ok())
                .map(IpNet::V4),
            (IpAddr::V6(a), IpAddr::V6(b)) => single_prefix(u128::from(a), u128::from(b))
                .and_then(|len| Ipv6Net::new(a, len as u8).ok())
                .map(IpNet::V6),
            _ => None,
        }
    }

    /// A bare address when single, otherwise `first-last`, even for a CIDR block.
    pub fn to_range_string(&self) -> String {
        if self.is_single() {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        }
    }

    /// The minimal list of CIDR prefixes covering exactly this range.
    pub fn prefixes(&self) -> Vec<IpNet> {
        match (self.first, self.last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let blocks = prefixes_of(u32::from(a), u32::from(b));
                let mut out = Vec::with_capacity(blocks.len());
                for (n, l) in blocks {
                    if let Ok(net) = Ipv4Net::new(Ipv4Addr::from(n), l as u8) {
                        out.push(IpNet::V4(net));
                    }
                }
                out
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let blocks = prefixes_of(u128::from(a), u128::from(b));
                let mut out = Vec::with_capacity(blocks.len());
                for (n, l) in blocks {
                    if let Ok(net) = Ipv6Net::new(Ipv6Addr::from(n), l as u8) {
                        out.push(IpNet::V6(net));
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }
}

/// The wire form: bare address, CIDR, or `first-last`.
impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.first)
        } else if let Some(net) = self.as_net() {
            write!(f, "{net}")
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// Parses `first-last` (IPv4 or IPv6, same family, `first <= last`).
impl FromStr for IpRange {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, AddrError> {
        let invalid = || AddrError::Invalid(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(invalid)?;
        let first = IpAddr::from_str(a).map_err(|_| invalid())?;
        let last = IpAddr::from_str(b).map_err(|_| invalid())?;
        Self::new(first, last).map_err(|e| match e {
            AddrError::MixedFamilies(_) => AddrError::MixedFamilies(s.to_owned()),
            AddrError::Inverted(_) => AddrError::Inverted(s.to_owned()),
            other => other,
        })
    }
}

/// A set of IPv4 and IPv6 addresses.
///
/// Stored as sorted, disjoint, non-adjacent inclusive ranges per family, so two sets with
/// the same members are equal (`==`) whatever way they were built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpSet {
    /// The empty set.
    pub const fn new() -> Self {
        Self {
            v4: Vec::new(),
            v6: Vec::new(),
        }
    }

    /// Every IPv4 and IPv6 address (the wire `*`).
    pub fn all() -> Self {
        Self {
            v4: vec![(0, u32::MAX)],
            v6: vec![(0, u128::MAX)],
        }
    }

    pub fn from_addr(addr: IpAddr) -> Self {
        let mut s = Self::new();
        s.insert_addr(addr);
        s
    }

    /// The addresses `net` covers (host bits of its address are ignored).
    pub fn from_net(net: &IpNet) -> Self {
        let mut s = Self::new();
        s.insert_net(net);
        s
    }

    pub fn from_range(range: IpRange) -> Self {
        let mut s = Self::new();
        s.insert_range(range);
        s
    }

    /// The inclusive range `first..=last`.
    pub fn from_bounds(first: IpAddr, last: IpAddr) -> Result<Self, AddrError> {
        IpRange::new(first, last).map(Self::from_range)
    }

    /// Parses an IP range `a.b.c.d-e.f.g.h` or `v6-v6`.
    pub fn parse_range(s: &str) -> Result<Self, AddrError> {
        IpRange::from_str(s).map(Self::from_range)
    }

    /// Parses one address string as Tailscale writes it in `SrcIPs` and `DstPorts.IP`:
    /// a bare IP, a CIDR, an inclusive range `a-b`, or `*` (every address).
    pub fn parse_tailscale(s: &str) -> Result<Self, AddrError> {
        if s == "*" {
            return Ok(Self::all());
        }
        if s.contains('-') {
            return Self::parse_range(s);
        }
        if s.contains('/') {
            return IpNet::from_str(s)
                .map(|n| Self::from_net(&n))
                .map_err(|_| AddrError::Invalid(s.to_owned()));
        }
        IpAddr::from_str(s)
            .map(Self::from_addr)
            .map_err(|_| AddrError::Invalid(s.to_owned()))
    }

    /// Parses a list of wire address strings into their union.
    pub fn parse_tailscale_list<'a, I>(items: I) -> Result<Self, AddrError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut s = Self::new();
        for item in items {
            s.insert_set(&Self::parse_tailscale(item)?);
        }
        Ok(s)
    }

    pub fn insert_addr(&mut self, addr: IpAddr) {
        self.insert_range(IpRange::single(addr));
    }

    pub fn insert_net(&mut self, net: &IpNet) {
        self.insert_range(IpRange::from_net(net));
    }

    pub fn insert_range(&mut self, range: IpRange) {
        match (range.first, range.last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                self.v4 = union(&self.v4, &[(u32::from(a), u32::from(b))]);
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                self.v6 = union(&self.v6, &[(u128::from(a), u128::from(b))]);
            }
            _ => {}
        }
    }

    pub fn insert_set(&mut self, other: &IpSet) {
        *self = self.union(other);
    }

    pub fn remove_net(&mut self, net: &IpNet) {
        *self = self.difference(&Self::from_net(net));
    }

    pub fn remove_set(&mut self, other: &IpSet) {
        *self = self.difference(other);
    }

    pub fn union(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: union(&self.v4, &other.v4),
            v6: union(&self.v6, &other.v6),
        }
    }

    /// The addresses of `self` not in `other`.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: difference(&self.v4, &other.v4),
            v6: difference(&self.v6, &other.v6),
        }
    }

    pub fn intersection(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: intersection(&self.v4, &other.v4),
            v6: intersection(&self.v6, &other.v6),
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => contains(&self.v4, u32::from(a)),
            IpAddr::V6(a) => contains(&self.v6, u128::from(a)),
        }
    }

    /// True when every address of `net` is in the set.
    pub fn contains_net(&self, net: &IpNet) -> bool {
        match net {
            IpNet::V4(n) => {
                covers_range(&self.v4, u32::from(n.network()), u32::from(n.broadcast()))
            }
            IpNet::V6(n) => {
                covers_range(&self.v6, u128::from(n.network()), u128::from(n.broadcast()))
            }
        }
    }

    /// True when some address of `net` is in the set.
    pub fn overlaps_net(&self, net: &IpNet) -> bool {
        match net {
            IpNet::V4(n) => {
                overlaps_range(&self.v4, u32::from(n.network()), u32::from(n.broadcast()))
            }
            IpNet::V6(n) => {
                overlaps_range(&self.v6, u128::from(n.network()), u128::from(n.broadcast()))
            }
        }
    }

    /// True when the two sets share an address.
    pub fn overlaps(&self, other: &IpSet) -> bool {
        overlaps(&self.v4, &other.v4) || overlaps(&self.v6, &other.v6)
    }

    /// True when every address of `self` is in `other`.
    pub fn is_subset(&self, other: &IpSet) -> bool {
        is_subset(&self.v4, &other.v4) && is_subset(&self.v6, &other.v6)
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// True when the set is every IPv4 and every IPv6 address.
    pub fn is_all(&self) -> bool {
        self.v4 == [(0, u32::MAX)] && self.v6 == [(0, u128::MAX)]
    }

    /// The IPv4 part of the set.
    pub fn ipv4(&self) -> IpSet {
        IpSet {
            v4: self.v4.clone(),
            v6: Vec::new(),
        }
    }

    /// The IPv6 part of the set.
    pub fn ipv6(&self) -> IpSet {
        IpSet {
            v4: Vec::new(),
            v6: self.v6.clone(),
        }
    }

    /// The maximal IPv4 ranges as integers, ascending (no conversion to [`IpRange`]: for
    /// indexes that sort and compare ranges as they are stored).
    pub(crate) fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4
    }

    /// The maximal IPv6 ranges as integers, ascending (as [`v4_ranges`](Self::v4_ranges)).
    pub(crate) fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6
    }

    /// The lowest address, IPv4 first.
    pub(crate) fn lowest(&self) -> Option<IpAddr> {
        match (self.v4.first(), self.v6.first()) {
            (Some(&(a, _)), _) => Some(IpAddr::V4(Ipv4Addr::from(a))),
            (None, Some(&(a, _))) => Some(IpAddr::V6(Ipv6Addr::from(a))),
            (None, None) => None,
        }
    }

    /// The union of `sets`, normalised once: a fold of [`union`](Self::union) copies the
    /// growing set at every step.
    pub(crate) fn union_all(sets: &[&IpSet]) -> IpSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for set in sets {
            v4.extend_from_slice(&set.v4);
            v6.extend_from_slice(&set.v6);
        }
        IpSet {
            v4: normalize(v4),
            v6: normalize(v6),
        }
    }

    /// The number of maximal ranges.
    pub fn range_count(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// The maximal ranges, IPv4 first, each family in ascending order.
    ///
    /// Built into a `Vec` by one non-generic body: a lazy chain of two maps was inlined
    /// into every caller (module size).
    pub fn ranges(&self) -> std::vec::IntoIter<IpRange> {
        let mut out = Vec::with_capacity(self.range_count());
        for &(a, b) in &self.v4 {
            out.push(IpRange {
                first: IpAddr::V4(Ipv4Addr::from(a)),
                last: IpAddr::V4(Ipv4Addr::from(b)),
            });
        }
        for &(a, b) in &self.v6 {
            out.push(IpRange {
                first: IpAddr::V6(Ipv6Addr::from(a)),
                last: IpAddr::V6(Ipv6Addr::from(b)),
            });
        }
        out.into_iter()
    }

    /// The minimal list of CIDR prefixes covering exactly the set, in ascending order.
    pub fn prefixes(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.ranges().flat_map(|r| r.prefixes())
    }

    /// The wire strings, one per maximal range: bare address, CIDR, or `first-last`.
    pub fn to_wire_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in self.ranges() {
            out.push(r.to_string());
        }
        out
    }

    /// The wire strings in range form, one per maximal range: a bare address, otherwise
    /// `first-last` even when the range is one CIDR block. This is how the control server
    /// writes computed sets such as `autogroup:internet` (`2000::-3fff:ffff:...`, not
    /// `2000::/3`).
    pub fn to_range_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in self.ranges() {
            out.push(r.to_range_string());
        }
        out
    }
}

impl From<IpAddr> for IpSet {
    fn from(addr: IpAddr) -> Self {
        Self::from_addr(addr)
    }
}

impl From<IpNet> for IpSet {
    fn from(net: IpNet) -> Self {
        Self::from_net(&net)
    }
}

impl From<IpRange> for IpSet {
    fn from(range: IpRange) -> Self {
        Self::from_range(range)
    }
}

impl IpSet {
    /// The union of `nets`. The one body behind every `collect()` into a set: the generic
    /// part only gathers the items (module size: one copy, not one per iterator type).
    pub fn from_nets(nets: Vec<IpNet>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for net in nets {
            match net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()))),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()))),
            }
        }
        IpSet {
            v4: normalize(v4),
            v6: normalize(v6),
        }
    }
}

impl FromIterator<IpNet> for IpSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        let mut nets = Vec::new();
        for net in iter {
            nets.push(net);
        }
        Self::from_nets(nets)
    }
}

impl FromIterator<IpAddr> for IpSet {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(iter: I) -> Self {
        let mut nets = Vec::new();
        for addr in iter {
            nets.push(IpNet::from(addr));
        }
        Self::from_nets(nets)
    }
}

impl Extend<IpNet> for IpSet {
    fn extend<I: IntoIterator<Item = IpNet>>(&mut self, iter: I) {
        let other: IpSet = iter.into_iter().collect();
        self.insert_set(&other);
    }
}

/// Comma-separated wire strings, e.g. `100.64.0.0-100.115.91.255, fd7a:115c:a1e0::/48`.
impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Formats one prefix as Tailscale does: a host prefix (`/32`, `/128`) as a bare address,
/// anything else as a CIDR of its network address.
pub fn format_net(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.trunc().to_string()
    }
}

/// `100.64.0.0/10` minus the ChromeOS range `100.115.92.0/23`.
pub fn tailnet_v4() -> IpSet {
    IpSet::from_net(&IpNet::V4(CGNAT_V4)).difference(&IpSet::from_net(&IpNet::V4(CHROMEOS_V4)))
}

/// `fd7a:115c:a1e0::/48`.
pub fn tailnet_v6() -> IpSet {
    IpSet::from_net(&IpNet::V6(TAILNET_V6))
}

/// Every Tailscale address: [`tailnet_v4`] plus [`tailnet_v6`]. This is what a `*` source
/// resolves to before approved subnet routes are added.
pub fn tailnet() -> IpSet {
    tailnet_v4().union(&tailnet_v6())
}

/// `autogroup:internet`: IPv4 `0.0.0.0/0` minus `10/8`, `100.64/10`, `169.254/16`,
/// `172.16/12`, `192.168/16`, plus IPv6 `2000::/3`. Written on the wire in range form, see
/// [`internet_wire_strings`].
pub fn internet() -> IpSet {
    let mut s = IpSet {
        v4: vec![(0, u32::MAX)],
        v6: Vec::new(),
    };
    for net in NON_INTERNET_V4 {
        s.remove_net(&IpNet::V4(net));
    }
    s.insert_net(&IpNet::V6(INTERNET_V6));
    s
}

/// The wire strings of `autogroup:internet` destinations, exactly as the control server
/// writes them: `0.0.0.0-9.255.255.255`, ..., `192.169.0.0-255.255.255.255`,
/// `2000::-3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff` (range form, [`IpSet::to_range_strings`]).
pub fn internet_wire_strings() -> Vec<String> {
    internet().to_range_strings()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> IpSet {
        IpSet::parse_tailscale_list(items.iter().copied()).unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tailnet_wire() {
        assert_eq!(
            tailnet_v4().to_wire_strings(),
            ["100.64.0.0-100.115.91.255", "100.115.94.0-100.127.255.255"]
        );
        assert_eq!(tailnet_v6().to_wire_strings(), ["fd7a:115c:a1e0::/48"]);
        assert_eq!(tailnet().range_count(), 3);
    }

    #[test]
    fn internet_wire() {
        assert_eq!(
            internet_wire_strings(),
            [
                "0.0.0.0-9.255.255.255",
                "11.0.0.0-100.63.255.255",
                "100.128.0.0-169.253.255.255",
                "169.255.0.0-172.15.255.255",
                "172.32.0.0-192.167.255.255",
                "192.169.0.0-255.255.255.255",
                "2000::-3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ]
        );
        assert_eq!(internet().ipv6().to_wire_strings(), ["2000::/3"]);
        assert_eq!(
            tailnet().to_range_strings().last().unwrap(),
            "fd7a:115c:a1e0::-fd7a:115c:a1e0:ffff:ffff:ffff:ffff:ffff"
        );
        assert_eq!(set(&["1.2.3.4"]).to_range_strings(), ["1.2.3.4"]);
        assert!(internet().contains(ip("8.8.8.8")));
        assert!(internet().contains(ip("127.0.0.1")));
        assert!(!internet().contains(ip("100.100.100.100")));
        assert!(!internet().contains(ip("fd7a:115c:a1e0::1")));
    }

    #[test]
    fn wire_forms() {
        assert_eq!(set(&["100.64.0.1"]).to_wire_strings(), ["100.64.0.1"]);
        assert_eq!(set(&["100.64.0.1/32"]).to_wire_strings(), ["100.64.0.1"]);
        assert_eq!(set(&["fd7a::1/128"]).to_wire_strings(), ["fd7a::1"]);
        assert_eq!(set(&["10.1.2.3/8"]).to_wire_strings(), ["10.0.0.0/8"]);
        assert_eq!(
            set(&["10.0.0.0-10.0.0.255"]).to_wire_strings(),
            ["10.0.0.0/24"]
        );
        assert_eq!(
            set(&["10.0.0.1-10.0.0.2"]).to_wire_strings(),
            ["10.0.0.1-10.0.0.2"]
        );
        assert_eq!(set(&["*"]).to_wire_strings(), ["0.0.0.0/0", "::/0"]);
        assert!(set(&["*"]).is_all());
        assert_eq!(
            set(&["10.0.0.0/25", "10.0.0.128/25"]).to_wire_strings(),
            ["10.0.0.0/24"]
        );
        assert_eq!(
            set(&["10.0.0.0/24", "10.0.1.0/25"]).to_wire_strings(),
            ["10.0.0.0-10.0.1.127"]
        );
        assert_eq!(set(&[]).to_wire_strings(), Vec::<String>::new());
    }

    #[test]
    fn format_single_net() {
        assert_eq!(format_net(&net("100.64.0.1/32")), "100.64.0.1");
        assert_eq!(
            format_net(&net("fd7a:115c:a1e0::1/128")),
            "fd7a:115c:a1e0::1"
        );
        assert_eq!(format_net(&net("10.0.0.0/8")), "10.0.0.0/8");
        assert_eq!(format_net(&net("10.1.0.0/8")), "10.0.0.0/8");
        assert_eq!(format_net(&net("::/0")), "::/0");
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "abc",
            "10.0.0.1/33",
            "10.0.0.1-",
            "-10.0.0.1",
            "1.2.3.4-5.6.7.8-9.9.9.9",
        ] {
            assert!(IpSet::parse_tailscale(bad).is_err(), "{bad}");
        }
        assert_eq!(
            IpSet::parse_tailscale("%bogus%").unwrap_err().to_string(),
            r#""%bogus%": invalid address"#
        );
        assert!(matches!(
            IpSet::parse_range("10.0.0.1-::1"),
            Err(AddrError::MixedFamilies(_))
        ));
        assert!(matches!(
            IpSet::parse_range("10.0.0.2-10.0.0.1"),
            Err(AddrError::Inverted(_))
        ));
        assert!(IpSet::from_bounds(ip("::2"), ip("::1")).is_err());
    }

    #[test]
    fn set_operations() {
        let a = set(&["10.0.0.0/8", "fd7a:115c:a1e0::/48"]);
        let b = set(&["10.1.0.0/16", "192.168.0.1"]);
        assert_eq!(
            a.intersection(&b).to_wire_strings(),
            ["10.1.0.0/16"],
            "intersection keeps only shared addresses"
        );
        assert_eq!(
            a.difference(&b).to_wire_strings(),
            [
                "10.0.0.0/16",
                "10.2.0.0-10.255.255.255",
                "fd7a:115c:a1e0::/48"
            ]
        );
        assert_eq!(
            a.union(&b).to_wire_strings(),
            ["10.0.0.0/8", "192.168.0.1", "fd7a:115c:a1e0::/48"]
        );
        assert!(b.overlaps(&a));
        assert!(!set(&["192.168.0.1"]).overlaps(&a));
        assert!(set(&["10.1.0.0/16"]).is_subset(&a));
        assert!(!b.is_subset(&a));
        assert!(IpSet::new().is_subset(&IpSet::new()));
        assert!(a.overlaps_net(&net("10.255.255.255/32")));
        assert!(!a.overlaps_net(&net("11.0.0.0/8")));
        assert!(a.overlaps_net(&net("0.0.0.0/0")));
        assert!(a.contains_net(&net("10.3.0.0/16")));
        assert!(!a.contains_net(&net("0.0.0.0/0")));
        assert!(a.contains(ip("fd7a:115c:a1e0::7")));
        assert!(!a.contains(ip("fd7a:115c:a1e1::7")));
        assert!(!a.contains(ip("9.255.255.255")));
    }

    #[test]
    fn edges_of_the_space() {
        let all = IpSet::all();
        assert_eq!(all.difference(&all), IpSet::new());
        let top = set(&["255.255.255.255"]);
        assert_eq!(
            all.ipv4().difference(&top).to_wire_strings(),
            ["0.0.0.0-255.255.255.254"]
        );
        let bottom = set(&["0.0.0.0"]);
        assert_eq!(
            all.ipv4().difference(&bottom).to_wire_strings(),
            ["0.0.0.1-255.255.255.255"]
        );
        assert_eq!(
            top.union(&set(&["255.255.255.254"])).to_wire_strings(),
            ["255.255.255.254/31"]
        );
        let mut s = IpSet::new();
        s.insert_range(
            "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"
                .parse()
                .unwrap(),
        );
        s.insert_addr(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        assert_eq!(s.to_wire_strings(), ["::/0"]);
    }

    #[test]
    fn prefixes() {
        let r: IpRange = "100.64.0.0-100.115.91.255".parse().unwrap();
        let p: Vec<String> = r.prefixes().iter().map(ToString::to_string).collect();
        assert_eq!(p.first().map(String::as_str), Some("100.64.0.0/11"));
        assert_eq!(p.last().map(String::as_str), Some("100.115.88.0/22"));
        let back: IpSet = r.prefixes().into_iter().collect();
        assert_eq!(back, IpSet::from_range(r));
        assert_eq!(
            IpSet::all()
                .prefixes()
                .map(|n| n.to_string())
                .collect::<Vec<_>>(),
            ["0.0.0.0/0", "::/0"]
        );
        let r: IpRange = "10.0.0.1-10.0.0.6".parse().unwrap();
        assert_eq!(
            r.prefixes()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(r.as_net(), None);
        assert_eq!(IpRange::single(ip("::1")).as_net(), Some(net("::1/128")));
    }

    #[test]
    fn collect_and_extend() {
        let mut s: IpSet = [net("10.0.0.0/9"), net("10.128.0.0/9")]
            .into_iter()
            .collect();
        assert_eq!(s.to_wire_strings(), ["10.0.0.0/8"]);
        s.extend([net("::1/128")]);
        assert_eq!(s.to_string(), "10.0.0.0/8, ::1");
        let addrs: IpSet = [ip("1.1.1.1"), ip("1.1.1.2")].into_iter().collect();
        assert_eq!(addrs.to_wire_strings(), ["1.1.1.1-1.1.1.2"]);
    }
}
