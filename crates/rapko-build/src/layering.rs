//! Which files go in which layer. By default one layer holds everything. With
//! `layering: {strategy: origin, budget: N}` packages are grouped by origin (the source
//! package they were built from), the largest groups get a layer each — up to N, the rest
//! share the last package layer — and a final layer holds the files no package owns (the
//! apk database, accounts, links rapko made), which change with every package change. A
//! layer's content then depends only on its packages, so images that share packages share
//! layer digests.

use std::collections::{BTreeMap, HashSet};

use rapko_config::Layering;
use rapko_fs::Rootfs;

/// The set of package positions one layer holds (`None` = files no package owns).
#[derive(Clone, Debug)]
pub struct LayerGroup {
    owners: HashSet<Option<usize>>,
    /// For the image history.
    pub description: String,
}

impl LayerGroup {
    pub fn contains(&self, owner: Option<usize>) -> bool {
        self.owners.contains(&owner)
    }
}

pub fn group_layers(rootfs: &Rootfs, layering: Option<&Layering>) -> Vec<LayerGroup> {
    let everything = || LayerGroup {
        owners: std::iter::once(None)
            .chain((0..rootfs.installed.len()).map(Some))
            .collect(),
        description: "rapko single-layer image".to_owned(),
    };
    let Some(layering) = layering else {
        return vec![everything()];
    };
    let budget = usize::try_from(layering.budget)
        .unwrap_or(usize::MAX)
        .max(1);
    // origin → (installed size, package positions); BTreeMap for a stable tie order.
    let mut origins: BTreeMap<&str, (u64, Vec<usize>)> = BTreeMap::new();
    for (i, p) in rootfs.installed.iter().enumerate() {
        let origin = p.info.origin.as_deref().unwrap_or(&p.info.name);
        let entry = origins.entry(origin).or_default();
        entry.0 += p.info.installed_size;
        entry.1.push(i);
    }
    let mut by_size: Vec<(&str, (u64, Vec<usize>))> = origins.into_iter().collect();
    by_size.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let mut groups = Vec::new();
    let mut rest: Vec<(&str, Vec<usize>)> = Vec::new();
    for (origin, (_, positions)) in by_size {
        if groups.len() + 1 < budget {
            groups.push(LayerGroup {
                owners: positions.into_iter().map(Some).collect(),
                description: format!("packages from origin {origin}"),
            });
        } else {
            rest.push((origin, positions));
        }
    }
    if !rest.is_empty() {
        let names: Vec<&str> = rest.iter().map(|(o, _)| *o).collect();
        groups.push(LayerGroup {
            owners: rest.into_iter().flat_map(|(_, p)| p).map(Some).collect(),
            description: format!("packages from origins {}", names.join(", ")),
        });
    }
    groups.push(LayerGroup {
        owners: std::iter::once(None).collect(),
        description: "files made by rapko (apk database, accounts, links)".to_owned(),
    });
    groups
}
