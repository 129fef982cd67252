//! Which objects are compared: missing, extra, unnamed, twice declared, defaulted namespaces,
//! and sizes up to 5,000 objects and a 1 MB object.

use serde_json::{Map, Value, json};

use super::fixtures::{config_map, deployment, live_copy, service};
use super::modified;
use crate::drift::{ObjectKey, Options, Outcome, compare};

fn key(kind: &str, name: &str) -> ObjectKey {
    let group = if kind == "Deployment" { "apps" } else { "" };
    ObjectKey {
        group: group.into(),
        kind: kind.into(),
        namespace: "shop".into(),
        name: name.into(),
    }
}

#[test]
fn missing_extra_and_unnamed_objects_are_reported_alongside_the_rest() {
    let web = deployment("web", "shop/web:1.0", 3);
    let api = deployment("api", "shop/api:1.0", 2);
    let unnamed =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "shop"}});
    let svc = service("web");
    let legacy = config_map("legacy", Map::new());
    let desired = [web.clone(), api, unnamed, svc.clone()];
    let live = [live_copy(&web), live_copy(&svc), live_copy(&legacy)];

    let report = compare(&desired, &live, &Options::default());

    let outcome = |k: ObjectKey| {
        report
            .objects
            .iter()
            .find(|o| o.key == k)
            .map(|o| &o.outcome)
    };
    assert_eq!(outcome(key("Deployment", "web")), Some(&Outcome::InSync));
    assert_eq!(outcome(key("Service", "web")), Some(&Outcome::InSync));
    assert_eq!(
        outcome(key("Deployment", "api")),
        Some(&Outcome::MissingLive)
    );
    assert_eq!(
        outcome(key("ConfigMap", "legacy")),
        Some(&Outcome::ExtraLive)
    );
    let error = Outcome::Error("desired object 2 has no metadata.name".into());
    assert_eq!(outcome(key("ConfigMap", "")), Some(&error));
    let c = report.counts;
    assert_eq!(
        (c.in_sync, c.modified, c.missing, c.extra, c.errors),
        (2, 0, 1, 1, 1)
    );
    let keys: Vec<&ObjectKey> = report.objects.iter().map(|o| &o.key).collect();
    assert!(keys.is_sorted(), "the report is sorted by key");
}

#[test]
fn an_object_without_kind_or_declared_twice_is_an_error_of_its_own() {
    let web = deployment("web", "shop/web:1.0", 3);
    let no_kind = json!({"apiVersion": "v1", "metadata": {"name": "x"}});
    let desired = [web.clone(), no_kind, web.clone(), json!("not an object")];

    let report = compare(&desired, &[live_copy(&web)], &Options::default());

    let errors: Vec<&Outcome> = report
        .objects
        .iter()
        .map(|o| &o.outcome)
        .filter(|o| matches!(o, Outcome::Error(_)))
        .collect();
    assert_eq!(errors.len(), 3);
    assert!(errors.contains(&&Outcome::Error("desired object 1 has no kind".into())));
    let twice = Outcome::Error("desired object 2 is declared twice (also object 0)".into());
    assert!(errors.contains(&&twice));
    assert_eq!(report.counts.in_sync, 1);
}

#[test]
fn an_object_without_a_namespace_takes_the_callers_default() {
    let live = live_copy(&config_map("settings", Map::new()));
    let mut desired = config_map("settings", Map::new());
    desired["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("namespace");
    let options = Options {
        namespace: Some("shop".into()),
        ..Options::default()
    };

    let report = compare(&[desired], &[live], &options);

    assert_eq!(report.objects.len(), 1);
    assert_eq!(report.objects[0].key, key("ConfigMap", "settings"));
    assert_eq!(report.objects[0].outcome, Outcome::InSync);
}

#[test]
fn five_thousand_objects_compare_with_the_drifted_ones_found() {
    let desired: Vec<Value> = (0..5_000)
        .map(|i| match i % 3 {
            0 => deployment(&format!("app-{i}"), "shop/app:1.0", 2),
            1 => service(&format!("svc-{i}")),
            _ => config_map(&format!("cfg-{i}"), one_entry("mode", "production")),
        })
        .collect();
    let mut live: Vec<Value> = desired.iter().map(live_copy).collect();
    for object in live.iter_mut().step_by(100) {
        object["metadata"]["labels"]["team"] = json!("changed by hand");
        object["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"]["f:team"] =
            json!({});
    }
    live.reverse();

    let report = compare(&desired, &live, &Options::default());

    assert_eq!(report.objects.len(), 5_000);
    assert_eq!(report.counts.modified, 50);
    assert_eq!(report.counts.in_sync, 4_950);
}

#[test]
fn a_one_megabyte_object_compares_and_names_the_one_changed_key() {
    let data: Map<String, Value> = (0..1_000)
        .map(|i| (format!("key-{i:04}"), json!(format!("v{i:03}").repeat(256))))
        .collect();
    let desired = config_map("big", data);
    assert!(desired.to_string().len() > 1_000_000);
    let mut live = live_copy(&desired);
    live["data"]["key-0500"] = json!("edited");

    let report = compare(&[desired], &[live], &Options::default());

    let (fields, _, diff) = modified(&report.objects[0].outcome);
    assert_eq!(fields, ["/data/key-0500"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with("-  ") || l.starts_with("+  "))
        .collect();
    assert_eq!(changed.len(), 2, "one line out, one in: {changed:?}");
    assert!(changed[0].starts_with("-  key-0500: v500v500") && changed[1] == "+  key-0500: edited");
}

fn one_entry(key: &str, value: &str) -> Map<String, Value> {
    Map::from_iter([(key.to_owned(), json!(value))])
}
