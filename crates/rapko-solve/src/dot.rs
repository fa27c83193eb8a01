//! The dependency graph of a resolution in Graphviz `dot` (for `rapko dot`).
//!
//! One box per package (`name-version`), in installation order; `install_if` packages
//! dashed; an ellipse `world` with an edge to what satisfies each world atom; an edge per
//! (package, satisfier) pair, labelled with the atoms when they do not simply name the
//! target. The text depends only on the resolution, so it is the same on every run.

use crate::resolve::{Reason, Resolution};

/// The resolution as a `dot` digraph.
pub fn to_dot(resolution: &Resolution<'_>) -> String {
    let label = |i: usize| {
        resolution
            .packages
            .get(i)
            .map(|p| p.info.name_version())
            .unwrap_or_default()
    };
    let mut out =
        String::from("digraph resolution {\n  node [shape=box];\n  \"world\" [shape=ellipse];\n");
    for p in &resolution.packages {
        let style = if p.reason == Reason::InstallIf {
            " [style=dashed]"
        } else {
            ""
        };
        out.push_str(&format!("  {}{style};\n", quote(&p.info.name_version())));
    }
    let world_edges = resolution.world.iter().map(|l| {
        (
            l.dependency.to_string(),
            l.dependency.name.as_str(),
            &l.satisfied_by,
        )
    });
    edges(&mut out, "world", world_edges, &label, resolution);
    for p in &resolution.packages {
        let links = p.depends.iter().map(|l| {
            (
                l.dependency.to_string(),
                l.dependency.name.as_str(),
                &l.satisfied_by,
            )
        });
        edges(&mut out, &p.info.name_version(), links, &label, resolution);
    }
    out.push_str("}\n");
    out
}

/// Edges from `from` to each satisfier, one per target, labels merged.
fn edges<'l>(
    out: &mut String,
    from: &str,
    links: impl Iterator<Item = (String, &'l str, &'l Vec<usize>)>,
    label: &dyn Fn(usize) -> String,
    resolution: &Resolution<'_>,
) {
    let mut targets: Vec<(usize, Vec<String>)> = Vec::new();
    for (atom, name, satisfied_by) in links {
        for &t in satisfied_by {
            let plain = resolution
                .packages
                .get(t)
                .is_some_and(|p| p.info.name == name)
                && atom == name;
            let entry = match targets.iter_mut().position(|(x, _)| *x == t) {
                Some(at) => &mut targets[at],
                None => {
                    targets.push((t, Vec::new()));
                    let last = targets.len() - 1;
                    &mut targets[last]
                }
            };
            if !plain && !entry.1.contains(&atom) {
                entry.1.push(atom.clone());
            }
        }
    }
    for (t, atoms) in targets {
        let attrs = if atoms.is_empty() {
            String::new()
        } else {
            format!(" [label={}]", quote(&atoms.join(", ")))
        };
        out.push_str(&format!(
            "  {} -> {}{attrs};\n",
            quote(from),
            quote(&label(t))
        ));
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{index, world};
    use crate::{Repository, Resolver};

    #[test]
    fn dot_lists_packages_and_labelled_edges() {
        let repos = [Repository::new(index(
            "P:app V:1 D:so:libz.so.1|busybox
             P:zlib V:1.3 p:so:libz.so.1=1
             P:busybox V:1
             P:app-doc V:1 i:app",
        ))];
        let r = Resolver::new(&repos);
        let w = world("app");
        let res = r.resolve(&w).unwrap_or_else(|e| panic!("{e}"));
        let dot = to_dot(&res);
        assert_eq!(
            dot,
            "digraph resolution {\n  node [shape=box];\n  \"world\" [shape=ellipse];\n  \
             \"zlib-1.3\";\n  \"busybox-1\";\n  \"app-1\";\n  \"app-doc-1\" [style=dashed];\n  \
             \"world\" -> \"app-1\";\n  \"app-1\" -> \"zlib-1.3\" [label=\"so:libz.so.1\"];\n  \
             \"app-1\" -> \"busybox-1\";\n}\n"
        );
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
