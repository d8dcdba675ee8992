//! Generates the progenitor client from `spec/partner-center.yaml`, reduced
//! to what progenitor 0.15 accepts (see `reduced_spec`), and writes both the
//! reduced spec and the client to `OUT_DIR`.

fn main() {
    let spec_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/partner-center.yaml"
    );
    println!("cargo::rerun-if-changed={spec_path}");
    let text = std::fs::read_to_string(spec_path).expect("spec");
    let reduced = reduced_spec(&text);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(
        out.join("reduced-spec.json"),
        serde_json::to_string_pretty(&reduced).expect("json"),
    )
    .expect("write");
    let spec: openapiv3::OpenAPI = serde_json::from_value(reduced).expect("OpenAPI");
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Positional);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .expect("progenitor generates");
    let file: syn::File = syn::parse2(tokens).expect("valid Rust");
    std::fs::write(out.join("progenitor.rs"), prettyplease::unparse(&file)).expect("write");
}

/// The listing operation only, in the shape progenitor 0.15 accepts: it
/// refuses `content` parameters, asserts a single response type (and counts
/// `default` as a possible success), and one media type.
fn reduced_spec(text: &str) -> serde_json::Value {
    let mut spec: serde_json::Value = serde_norway::from_str(text).expect("YAML");
    let paths = spec["paths"].as_object_mut().expect("paths");
    paths.retain(|path, _| path == "/v1/customers/{customer_id}/users");
    let item = paths
        .get_mut("/v1/customers/{customer_id}/users")
        .and_then(|v| v.as_object_mut())
        .expect("listing path");
    item.retain(|method, _| method == "get");
    let get = &mut item["get"];
    for parameter in get["parameters"].as_array_mut().expect("parameters") {
        if let Some(object) = parameter.as_object_mut()
            && object.remove("content").is_some()
        {
            object.insert("schema".into(), serde_json::json!({ "type": "string" }));
        }
    }
    let responses = get["responses"].as_object_mut().expect("responses");
    responses.remove("429");
    if let Some(fault) = responses.remove("default") {
        responses.insert("4XX".into(), fault.clone());
        responses.insert("5XX".into(), fault);
    }
    if let Some(content) = responses
        .get_mut("200")
        .and_then(|r| r["content"].as_object_mut())
    {
        content.remove("text/json");
    }
    if let Some(content) = spec["components"]["responses"]["Fault"]["content"].as_object_mut() {
        content.remove("text/json");
    }
    spec
}
