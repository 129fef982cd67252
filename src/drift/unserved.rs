//! Objects of a kind the cluster does not serve (a custom resource whose definition is not
//! installed) cannot be "missing from the cluster": nothing of that kind can be there. The
//! report says so per object, and the rest of it stands.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Outcome, Report};
use crate::deploy::Provider;

/// `report` with its missing objects of unserved kinds turned into errors that say why.
pub async fn named(provider: &dyn Provider, desired: &[Value], report: Report) -> Report {
    let missing: BTreeSet<(String, String)> = report
        .objects
        .iter()
        .filter(|o| o.outcome == Outcome::MissingLive)
        .filter_map(|o| {
            desired.iter().find_map(|object| {
                let api_version = object.get("apiVersion")?.as_str()?;
                let kind = object.get("kind")?.as_str()?;
                let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
                (kind == o.key.kind && group == o.key.group)
                    .then(|| (api_version.to_owned(), kind.to_owned()))
            })
        })
        .collect();
    if missing.is_empty() {
        return report;
    }
    // The check is a refinement: when it cannot be made, the report stays as it was.
    let Ok(unserved) = provider.unserved(missing.into_iter().collect()).await else {
        return report;
    };
    if unserved.is_empty() {
        return report;
    }
    let objects = report
        .objects
        .into_iter()
        .map(|mut object| {
            if object.outcome == Outcome::MissingLive
                && let Some((api_version, kind)) = unserved.iter().find(|(api_version, kind)| {
                    *kind == object.key.kind
                        && api_version.rsplit_once('/').map_or("", |(g, _)| g) == object.key.group
                })
            {
                object.outcome = Outcome::Error(format!(
                    "the cluster does not serve {api_version} {kind}: is its \
                     CustomResourceDefinition installed?"
                ));
            }
            object
        })
        .collect();
    Report::new(objects)
}
