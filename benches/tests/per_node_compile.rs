//! On generated tailnets (routers in HA pairs, exit nodes, `autogroup:self`, groups, hosts):
//! the per-node and streaming compilations give exactly what compiling the whole tailnet at
//! once gives.

use tailpolicy::compile::Compiled;

#[test]
fn per_node_peers_and_outputs_equal_the_whole_tailnet() {
    for (nodes, rules) in [(60, 40), (240, 120)] {
        let (text, inventory) = tailpolicy_benches::generate_tailnet(nodes, rules);
        let options = tailpolicy_benches::check_options(&inventory);
        let policy = tailpolicy::parse_valid(&text, &options).expect("valid");
        let compiled = Compiled::new(&policy, &inventory);
        let whole = compiled.peer_map();
        let order: Vec<usize> = (0..compiled.resolver.nodes.len()).collect();
        let mut streamed = 0;
        compiled.for_each_peers(&order, |index, peers| {
            assert_eq!(whole[index], peers, "streamed peers of node {index}");
            streamed += 1;
        });
        assert_eq!(streamed, whole.len());
        let carriers = compiled.carriers().to_vec();
        // Every carrier (the costly case) and a spread of other nodes.
        for index in carriers.into_iter().chain((0..whole.len()).step_by(7)) {
            assert_eq!(whole[index], compiled.peers(index), "peers of node {index}");
        }
        assert!(
            whole.iter().map(Vec::len).sum::<usize>() > nodes,
            "peers are seen"
        );

        let all = tailpolicy::compile(&policy, &inventory);
        let names: Vec<&str> = all.keys().step_by(5).map(String::as_str).collect();
        for (name, output) in tailpolicy::compile_nodes(&policy, &inventory, &names) {
            assert_eq!(output.as_ref(), all.get(&name), "compile_nodes({name})");
        }
    }
}
