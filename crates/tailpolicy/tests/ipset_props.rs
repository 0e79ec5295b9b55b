//! Property tests for `IpSet`: the set operations agree with a naive model of explicit
//! address sets, and the wire formats parse back to the same set.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use proptest::prelude::*;
use tailpolicy::addr::IpSet;

/// Small universes at interesting places: the bottom and top of each family and a spot in
/// the middle, so that carries and the ends of the address space are exercised.
const WIDTH: u32 = 48;
const V4_BASES: [u32; 3] = [0, 0x6440_0000, u32::MAX - (WIDTH - 1)];
const V6_BASES: [u128; 3] = [0, 0xfd7a_115c_a1e0 << 80, u128::MAX - (WIDTH as u128 - 1)];

/// A set described by ranges of offsets inside one v4 and one v6 universe.
#[derive(Debug, Clone)]
struct Spec {
    v4_base: u32,
    v6_base: u128,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u32, u32)>,
}

fn ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
    prop::collection::vec(
        (0..WIDTH, 0..WIDTH).prop_map(|(a, b)| (a.min(b), a.max(b))),
        0..5,
    )
}

fn spec_pair() -> impl Strategy<Value = (Spec, Spec)> {
    (
        0..V4_BASES.len(),
        0..V6_BASES.len(),
        ranges(),
        ranges(),
        ranges(),
        ranges(),
    )
        .prop_map(|(i4, i6, a4, a6, b4, b6)| {
            let (v4_base, v6_base) = (V4_BASES[i4], V6_BASES[i6]);
            (
                Spec {
                    v4_base,
                    v6_base,
                    v4: a4,
                    v6: a6,
                },
                Spec {
                    v4_base,
                    v6_base,
                    v4: b4,
                    v6: b6,
                },
            )
        })
}

fn v4(base: u32, off: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(base + off))
}

fn v6(base: u128, off: u32) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(base + u128::from(off)))
}

fn build(spec: &Spec) -> IpSet {
    let mut set = IpSet::new();
    for &(a, b) in &spec.v4 {
        set.insert_set(&IpSet::from_bounds(v4(spec.v4_base, a), v4(spec.v4_base, b)).unwrap());
    }
    for &(a, b) in &spec.v6 {
        set.insert_set(&IpSet::from_bounds(v6(spec.v6_base, a), v6(spec.v6_base, b)).unwrap());
    }
    set
}

/// The naive model: the explicit members, as offsets tagged with the family.
fn model(spec: &Spec) -> BTreeSet<(bool, u32)> {
    let mut out = BTreeSet::new();
    for &(a, b) in &spec.v4 {
        out.extend((a..=b).map(|o| (false, o)));
    }
    for &(a, b) in &spec.v6 {
        out.extend((a..=b).map(|o| (true, o)));
    }
    out
}

/// The members of `set` inside the universe, as the model writes them.
fn members(set: &IpSet, spec: &Spec) -> BTreeSet<(bool, u32)> {
    let mut out = BTreeSet::new();
    for o in 0..WIDTH {
        if set.contains(v4(spec.v4_base, o)) {
            out.insert((false, o));
        }
        if set.contains(v6(spec.v6_base, o)) {
            out.insert((true, o));
        }
    }
    out
}

/// The set has no member outside the universe.
fn inside_universe(set: &IpSet, spec: &Spec) -> bool {
    let universe = IpSet::from_bounds(v4(spec.v4_base, 0), v4(spec.v4_base, WIDTH - 1))
        .unwrap()
        .union(&IpSet::from_bounds(v6(spec.v6_base, 0), v6(spec.v6_base, WIDTH - 1)).unwrap());
    set.is_subset(&universe)
}

fn reparse(strings: &[String]) -> IpSet {
    IpSet::parse_tailscale_list(strings.iter().map(String::as_str)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn operations_match_the_model((a, b) in spec_pair()) {
        let (sa, sb) = (build(&a), build(&b));
        let (ma, mb) = (model(&a), model(&b));

        prop_assert_eq!(members(&sa, &a), ma.clone());
        prop_assert!(inside_universe(&sa, &a));

        let union = sa.union(&sb);
        prop_assert_eq!(members(&union, &a), ma.union(&mb).copied().collect::<BTreeSet<_>>());
        prop_assert!(inside_universe(&union, &a));

        let inter = sa.intersection(&sb);
        prop_assert_eq!(members(&inter, &a), ma.intersection(&mb).copied().collect::<BTreeSet<_>>());
        prop_assert!(inside_universe(&inter, &a));

        let diff = sa.difference(&sb);
        prop_assert_eq!(members(&diff, &a), ma.difference(&mb).copied().collect::<BTreeSet<_>>());
        prop_assert!(inside_universe(&diff, &a));

        prop_assert_eq!(sa.overlaps(&sb), !ma.is_disjoint(&mb));
        prop_assert_eq!(sa.is_subset(&sb), ma.is_subset(&mb));
        prop_assert_eq!(sa.is_empty(), ma.is_empty());

        // Algebraic identities, which also check normalisation (equal sets are `==`).
        prop_assert_eq!(diff.union(&inter), sa.clone());
        prop_assert_eq!(union.difference(&sb), diff.clone());
        prop_assert_eq!(sa.union(&sb), sb.union(&sa));
        prop_assert_eq!(sa.intersection(&sb), sb.intersection(&sa));
        prop_assert!(diff.intersection(&sb).is_empty());
    }

    #[test]
    fn wire_formats_parse_back((a, _b) in spec_pair()) {
        let set = build(&a);
        prop_assert_eq!(reparse(&set.to_wire_strings()), set.clone());
        prop_assert_eq!(reparse(&set.to_range_strings()), set.clone());
        // One string per maximal range, and no string covers two families.
        prop_assert_eq!(set.to_wire_strings().len(), set.range_count());
        let joined: IpSet = set.prefixes().collect();
        prop_assert_eq!(joined, set.clone());
        // The CIDR cover is minimal per range: no two prefixes of one range merge.
        for r in set.ranges() {
            let prefixes = r.prefixes();
            prop_assert_eq!(prefixes.len() == 1, r.as_net().is_some());
            for pair in prefixes.windows(2) {
                let (p, q) = (pair[0], pair[1]);
                let merged = p.supernet().filter(|s| s.contains(&q) && p.prefix_len() == q.prefix_len());
                prop_assert!(merged.is_none(), "{} and {} merge", p, q);
            }
        }
    }

    #[test]
    fn overlaps_net_matches_intersection((a, _b) in spec_pair(), off in 0..WIDTH, len in 24u8..=32) {
        let set = build(&a);
        let net = IpNet::new(v4(a.v4_base, off), len).unwrap().trunc();
        let other = IpSet::from_net(&net);
        prop_assert_eq!(set.overlaps_net(&net), !set.intersection(&other).is_empty());
        prop_assert_eq!(set.contains_net(&net), other.is_subset(&set));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,40}") {
        let _ = IpSet::parse_tailscale(&s);
        let _ = tailpolicy::ports::parse_port_spec(&s);
        let _ = tailpolicy::ports::parse_acl_destination(&s);
        let _ = tailpolicy::proto::parse_grant_ip(&s);
        let _ = tailpolicy::names::check_tag(&s);
        let _ = tailpolicy::names::check_capability_name(&s);
        let _ = tailpolicy::duration::parse_go_duration(&s);
    }

    #[test]
    fn address_like_strings_never_panic(s in "[0-9a-f:.\\[\\]/*,-]{0,40}") {
        let _ = IpSet::parse_tailscale(&s);
        let _ = tailpolicy::ports::parse_acl_destination(&s);
        let _ = tailpolicy::proto::parse_grant_ip(&s);
        let _ = tailpolicy::duration::parse_go_duration(&s);
    }

    #[test]
    fn durations_round_trip(n in any::<i64>()) {
        let d = tailpolicy::duration::GoDuration::from_nanos(n);
        prop_assert_eq!(tailpolicy::duration::parse_go_duration(&d.to_string()), Ok(d));
    }
}
