//! The real upstream CRDs (Argo CD, Flux, Tekton) installed into the fake, and the loopback HTTP
//! variant driven by a kube Client built from a URL and from a kubeconfig.

mod common;

use common::next;
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use sluice_kube_fake::{FakeApiServer, upstream_crds_dir};

fn with_upstream_crds() -> FakeApiServer {
    let fake = FakeApiServer::new();
    let dir = upstream_crds_dir().expect("the upstream CRDs must be present for these tests");
    let mut names = fake.load_crds_from_dir(&dir).expect("upstream CRDs load");
    names.sort();
    assert_eq!(
        names,
        [
            "applications.argoproj.io",
            "gitrepositories.source.toolkit.fluxcd.io",
            "helmreleases.helm.toolkit.fluxcd.io",
            "kustomizations.kustomize.toolkit.fluxcd.io",
            "ocirepositories.source.toolkit.fluxcd.io",
            "pipelineruns.tekton.dev",
            "pipelines.tekton.dev",
        ]
    );
    fake
}

fn dynamic(
    client: kube::Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    ns: &str,
) -> Api<DynamicObject> {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(client, ns, &ar)
}

#[test]
fn upstream_crds_register_their_served_versions() {
    let fake = with_upstream_crds();
    for (api_version, plural) in [
        ("argoproj.io/v1alpha1", "applications"),
        ("source.toolkit.fluxcd.io/v1", "gitrepositories"),
        ("source.toolkit.fluxcd.io/v1", "ocirepositories"),
        ("kustomize.toolkit.fluxcd.io/v1", "kustomizations"),
        ("helm.toolkit.fluxcd.io/v2", "helmreleases"),
        ("tekton.dev/v1", "pipelines"),
        ("tekton.dev/v1beta1", "pipelines"),
        ("tekton.dev/v1", "pipelineruns"),
    ] {
        assert!(
            fake.serves(api_version, plural),
            "{api_version} {plural} should be served"
        );
    }
    assert!(!fake.serves("source.toolkit.fluxcd.io/v1beta2", "gitrepositories"));
}

#[tokio::test]
async fn status_subresources_follow_the_upstream_crds() {
    let fake = with_upstream_crds();
    let client = fake.client();
    let argo = dynamic(
        client.clone(),
        "argoproj.io",
        "v1alpha1",
        "Application",
        "applications",
        "argocd",
    );
    let mut app = DynamicObject::new(
        "app",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
            "applications",
        ),
    );
    app.data = json!({"spec": {"syncPolicy": {"automated": {"prune": true}}}, "status": {"health": {"status": "Healthy"}}});
    let app = argo
        .create(&PostParams::default(), &app)
        .await
        .expect("create application");
    // No status subresource: status is part of the object.
    assert_eq!(
        app.data.pointer("/status/health/status"),
        Some(&json!("Healthy"))
    );
    let err = argo
        .patch_status("app", &PatchParams::default(), &Patch::Merge(json!({})))
        .await
        .expect_err("no /status");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
    let off = argo
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"syncPolicy": {"automated": null}}})),
        )
        .await
        .expect("disable auto-sync");
    assert_eq!(off.data.pointer("/spec/syncPolicy"), Some(&json!({})));

    let git = dynamic(
        client.clone(),
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
        "flux-system",
    );
    let mut repo = DynamicObject::new(
        "repo",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", "GitRepository"),
            "gitrepositories",
        ),
    );
    repo.data = json!({"spec": {"url": "https://example.com/x.git", "interval": "1m"}, "status": {"ready": true}});
    let repo = git
        .create(&PostParams::default(), &repo)
        .await
        .expect("create gitrepository");
    assert_eq!(
        repo.data.get("status"),
        None,
        "status is dropped on create with a status subresource"
    );
    let s = git
        .patch_status(
            "repo",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"artifact": {"revision": "main@sha1:abc"}}})),
        )
        .await
        .expect("status");
    assert_eq!(
        s.data.pointer("/status/artifact/revision"),
        Some(&json!("main@sha1:abc"))
    );
    let suspended = git
        .patch(
            "repo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .expect("suspend");
    assert_eq!(suspended.data.pointer("/spec/suspend"), Some(&json!(true)));
    assert_eq!(suspended.metadata.generation, Some(2));
}

#[tokio::test]
async fn loopback_http_serves_list_watch_and_discovery() {
    let fake = with_upstream_crds();
    let handle = fake.serve_http().await.expect("bind loopback");
    let config = kube::Config::new(handle.url().parse().expect("valid URL"));
    let client = kube::Client::try_from(config).expect("client");
    let version = client.apiserver_version().await.expect("/version");
    assert_eq!(version.major, "1");
    let (ar, caps) = kube::discovery::pinned_kind(
        &client,
        &GroupVersionKind::gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization"),
    )
    .await
    .expect("discovery");
    assert_eq!(ar.plural, "kustomizations");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    let raw = client
        .request::<serde_json::Value>(
            http::Request::get("/apis/kustomize.toolkit.fluxcd.io/v1")
                .body(Vec::new())
                .expect("request"),
        )
        .await
        .expect("APIResourceList");
    assert_eq!(
        raw.pointer("/resources/0/shortNames"),
        Some(&json!(["ks"])),
        "short names come from the CRD"
    );

    let ks: Api<DynamicObject> = Api::namespaced_with(client.clone(), "flux-system", &ar);
    let mut w = watcher::watcher(ks.clone(), watcher::Config::default()).boxed();
    assert!(matches!(next(&mut w).await.expect("init"), Event::Init));
    assert!(matches!(
        next(&mut w).await.expect("init done"),
        Event::InitDone
    ));
    let mut k = DynamicObject::new("apps", &ar);
    k.data = json!({"spec": {"interval": "5m", "path": "./apps", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}}});
    ks.create(&PostParams::default(), &k)
        .await
        .expect("create over HTTP");
    match next(&mut w).await.expect("applied") {
        Event::Apply(o) => assert_eq!(o.name_any(), "apps"),
        other => panic!("expected Apply, got {other:?}"),
    }
    assert!(fake.requests().iter().any(|r| r.is_watch()
        && r.path == "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations"));
}

#[tokio::test]
async fn kubeconfig_points_a_client_at_the_loopback_server() {
    let fake = FakeApiServer::new();
    let handle = fake.serve_http().await.expect("bind loopback");
    let dir = std::env::temp_dir().join(format!("sluice-kube-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("kubeconfig");
    fake.write_kubeconfig(&handle, &path)
        .expect("write kubeconfig");
    let kubeconfig = Kubeconfig::read_from(&path).expect("parse kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    assert_eq!(config.default_namespace, "default");
    let client = kube::Client::try_from(config).expect("client");
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::default_namespaced(client);
    let made = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "over-http"}})).expect("valid"),
        )
        .await
        .expect("create");
    assert_eq!(
        fake.get("v1", "configmaps", "default", "over-http")
            .map(|o| o["metadata"]["uid"].clone()),
        Some(json!(made.uid()))
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn discovery_run_finds_the_installed_kinds() {
    let fake = with_upstream_crds();
    let discovery = kube::Discovery::new(fake.client())
        .run()
        .await
        .expect("discovery");
    let (ar, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk(
            "argoproj.io",
            "v1alpha1",
            "Application",
        ))
        .expect("Argo CD Application is discovered");
    assert_eq!(ar.plural, "applications");
    assert!(caps.supports_operation(kube::discovery::verbs::WATCH));
    assert!(discovery.has_group("tekton.dev"));
    assert!(!discovery.has_group("example.invalid"));
    let (deployments, _) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("built-ins are discovered");
    assert_eq!(deployments.plural, "deployments");
}
