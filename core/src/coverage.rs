//! Coverage arithmetic: does a union of (port range × address range) rectangles
//! cover every port of a range on every address of a family?
//!
//! This is the heart of the rule. "All TCP ports open to the internet" is true
//! when, for every port 1..=65535, the destinations allowed on that port
//! together cover the whole address space. Rather than walking 65,535 ports, the
//! check sweeps over the ports where the set of permissions changes and keeps,
//! in a segment tree over the compressed address axis, how many permissions
//! cover each address interval. It is O(n log n) in the number of rectangles,
//! so a hostile group with 100,000 CIDRs is decided in milliseconds.

/// One permission's contribution: the ports it allows and the addresses it
/// allows them to, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub first_port: u32,
    pub last_port: u32,
    pub first_address: u128,
    pub last_address: u128,
}

/// True when the rectangles together cover every port in
/// `first_port..=last_port` on every address in `0..=max_address`.
pub fn covers_everything(
    rects: &[Rect],
    first_port: u32,
    last_port: u32,
    max_address: u128,
) -> bool {
    if first_port > last_port {
        return false;
    }
    // The common case, the default allow-all rule, needs no sweep.
    if rects.iter().any(|r| {
        r.first_port <= first_port
            && r.last_port >= last_port
            && r.first_address == 0
            && r.last_address >= max_address
    }) {
        return true;
    }
    let rects: Vec<Rect> = rects
        .iter()
        .filter_map(|r| {
            let rect = Rect {
                first_port: r.first_port.max(first_port),
                last_port: r.last_port.min(last_port),
                first_address: r.first_address,
                last_address: r.last_address.min(max_address),
            };
            (rect.first_port <= rect.last_port && rect.first_address <= rect.last_address)
                .then_some(rect)
        })
        .collect();
    if rects.is_empty() {
        return false;
    }

    // Compress the address axis into elementary intervals [cuts[k], cuts[k+1]).
    let mut cuts: Vec<u128> = Vec::with_capacity(rects.len() * 2 + 1);
    cuts.push(0);
    for r in &rects {
        cuts.push(r.first_address);
        if r.last_address < max_address {
            cuts.push(r.last_address + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let interval_of = |address: u128| cuts.partition_point(|&c| c <= address) - 1;

    // Each rectangle adds 1 over its address intervals from its first port and
    // removes it after its last port.
    let mut events: Vec<(u32, i32, usize, usize)> = Vec::with_capacity(rects.len() * 2);
    for r in &rects {
        let lo = interval_of(r.first_address);
        let hi = interval_of(r.last_address);
        events.push((r.first_port, 1, lo, hi));
        if r.last_port < last_port {
            events.push((r.last_port + 1, -1, lo, hi));
        }
    }
    events.sort_unstable_by_key(|e| e.0);

    let mut tree = MinAddTree::new(cuts.len());
    let mut i = 0;
    if events[0].0 != first_port {
        return false;
    }
    while i < events.len() {
        let port = events[i].0;
        while i < events.len() && events[i].0 == port {
            let (_, delta, lo, hi) = events[i];
            tree.add(lo, hi, delta);
            i += 1;
        }
        // Ports port..next event are covered exactly when no interval has count 0.
        if tree.min() <= 0 {
            return false;
        }
    }
    true
}

/// A segment tree over `n` slots supporting "add to a range" and "minimum of all".
struct MinAddTree {
    n: usize,
    min: Vec<i32>,
    pending: Vec<i32>,
}

impl MinAddTree {
    fn new(n: usize) -> Self {
        MinAddTree {
            n,
            min: vec![0; 4 * n],
            pending: vec![0; 4 * n],
        }
    }

    fn min(&self) -> i32 {
        self.min[1]
    }

    fn add(&mut self, lo: usize, hi: usize, delta: i32) {
        self.add_in(1, 0, self.n - 1, lo, hi, delta);
    }

    fn add_in(
        &mut self,
        node: usize,
        node_lo: usize,
        node_hi: usize,
        lo: usize,
        hi: usize,
        delta: i32,
    ) {
        if hi < node_lo || node_hi < lo {
            return;
        }
        if lo <= node_lo && node_hi <= hi {
            self.min[node] += delta;
            self.pending[node] += delta;
            return;
        }
        let mid = node_lo + (node_hi - node_lo) / 2;
        self.add_in(2 * node, node_lo, mid, lo, hi, delta);
        self.add_in(2 * node + 1, mid + 1, node_hi, lo, hi, delta);
        self.min[node] = self.pending[node] + self.min[2 * node].min(self.min[2 * node + 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(ports: (u32, u32), addresses: (u128, u128)) -> Rect {
        Rect {
            first_port: ports.0,
            last_port: ports.1,
            first_address: addresses.0,
            last_address: addresses.1,
        }
    }

    const V4: u128 = u32::MAX as u128;

    #[test]
    fn nothing_covers_nothing() {
        assert!(!covers_everything(&[], 1, 65535, V4));
    }

    #[test]
    fn one_rule_for_everything() {
        assert!(covers_everything(
            &[rect((0, 65535), (0, V4))],
            1,
            65535,
            V4
        ));
    }

    #[test]
    fn port_zero_is_not_needed_but_port_one_is() {
        assert!(covers_everything(
            &[rect((1, 65535), (0, V4))],
            1,
            65535,
            V4
        ));
        assert!(!covers_everything(
            &[rect((2, 65535), (0, V4))],
            1,
            65535,
            V4
        ));
        assert!(!covers_everything(
            &[rect((0, 65534), (0, V4))],
            1,
            65535,
            V4
        ));
    }

    #[test]
    fn split_ports_and_split_addresses() {
        let halves = [rect((1, 32767), (0, V4)), rect((32768, 65535), (0, V4))];
        assert!(covers_everything(&halves, 1, 65535, V4));
        let gap = [rect((1, 32766), (0, V4)), rect((32768, 65535), (0, V4))];
        assert!(!covers_everything(&gap, 1, 65535, V4));
        let quarters = [
            rect((1, 100), (0, V4 / 2)),
            rect((1, 100), (V4 / 2 + 1, V4)),
            rect((101, 65535), (0, V4)),
        ];
        assert!(covers_everything(&quarters, 1, 65535, V4));
        let hole = [
            rect((1, 100), (0, V4 / 2)),
            rect((1, 100), (V4 / 2 + 2, V4)),
            rect((101, 65535), (0, V4)),
        ];
        assert!(!covers_everything(&hole, 1, 65535, V4));
    }

    #[test]
    fn whole_ipv6_space() {
        assert!(covers_everything(
            &[rect((1, 65535), (0, u128::MAX))],
            1,
            65535,
            u128::MAX
        ));
        let halves = [
            rect((1, 65535), (0, u128::MAX / 2)),
            rect((1, 65535), (u128::MAX / 2 + 1, u128::MAX)),
        ];
        assert!(covers_everything(&halves, 1, 65535, u128::MAX));
        assert!(!covers_everything(&halves[..1], 1, 65535, u128::MAX));
    }
}
