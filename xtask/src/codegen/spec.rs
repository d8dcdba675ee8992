//! Loading the spec: YAML text → `openapiv3::OpenAPI`, with the checks that
//! `openapiv3` does not make (version, unknown schema keywords), JSON pointers,
//! `$ref` resolution and the line of a pointer for error messages.

use openapiv3::{OpenAPI, Parameter, ReferenceOr, Response, Schema};
use serde_norway::Value;

use super::error::{SpecError, SpecErrors};

/// A loaded spec: its name, its text (for line numbers) and the parsed document.
pub(crate) struct Document {
    pub(crate) name: String,
    text: String,
    /// Where each non-blank line's content is in `text`, found once: every
    /// error's line is looked up in it.
    lines: Vec<LineSpan>,
    /// The document as plain YAML values, for what `openapiv3` drops.
    raw: Value,
    pub(crate) api: OpenAPI,
    /// Keys and keywords OpenAPI 3.0 does not have (typos `openapiv3` would
    /// drop): errors for a strict generation, warnings for a lenient one.
    pub(crate) unknown_keys: Vec<SpecError>,
    /// Schemas copied into `components.schemas` from where a deep `$ref`
    /// points: (their pointer now, the pointer of the original).
    hoisted: Vec<(String, String)>,
}

/// Parses and checks the spec text.
pub(crate) fn load(name: &str, text: &str) -> Result<Document, SpecErrors> {
    let fail = |line: Option<usize>, pointer: &str, message: String| {
        SpecErrors::single(SpecError {
            file: name.to_owned(),
            line,
            pointer: pointer.to_owned(),
            message,
        })
    };
    // JSON is YAML, but a YAML parser refuses some valid JSON: `\uD83D\uDC4D`
    // (a surrogate pair, how JSON writes characters beyond the BMP) is not
    // a valid YAML escape. A document that starts with `{` is read as JSON.
    let body = text.trim_start_matches('\u{feff}');
    let json = body.trim_start().starts_with('{');
    let raw: Value = if json {
        super::yaml::from_json(body)
            .map_err(|e| fail(Some(e.line()), "#", format!("not valid JSON: {e}")))?
    } else {
        super::yaml::from_yaml(text).map_err(|e| {
            fail(
                e.location().map(|l| l.line()),
                "#",
                format!("not valid YAML: {e}"),
            )
        })?
    };
    let skeleton = Document {
        name: name.to_owned(),
        text: text.to_owned(),
        lines: line_spans(text),
        raw: Value::Null,
        api: OpenAPI::default(),
        unknown_keys: Vec::new(),
        hoisted: Vec::new(),
    };
    match raw.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.0.") => {}
        Some(Value::String(version)) => {
            return Err(fail(
                skeleton.line_of("#/openapi"),
                "#/openapi",
                format!("OpenAPI version {version:?} is not supported; use 3.0.x (e.g. 3.0.3)"),
            ));
        }
        _ => {
            return Err(fail(
                None,
                "#/openapi",
                "missing `openapi: 3.0.x` version field; this is not an OpenAPI 3.0 document"
                    .to_owned(),
            ));
        }
    }
    // OpenAPI documents are JSON: YAML's `.nan`, `.inf` and keys that are not
    // text are made JSON or refused. A parameter has `schema` or `content`
    // and a link `operationId` or `operationRef`, never both. `openapiv3`
    // panics on some of these (its second try at a value reads `.nan` as
    // `null` and both keys in another order), so they are refused here,
    // before it reads the document, each at its line.
    let mut raw = raw;
    let mut not_json = Vec::new();
    make_json(&mut raw, "#", &mut not_json);
    find_either_or(&raw, &mut not_json);
    if !not_json.is_empty() {
        return Err(SpecErrors(not_json).located(&skeleton));
    }
    let mut errors = Vec::new();
    if let Some(Value::Mapping(schemas)) = raw.get("components").and_then(|c| c.get("schemas")) {
        for (key, schema) in schemas {
            let key = key.as_str().unwrap_or_default();
            check_schema_keywords(
                schema,
                &format!("#/components/schemas/{}", escape(key)),
                &mut errors,
            );
        }
    }
    check_operations(&raw, &mut errors);
    let unknown_keys = SpecErrors(errors).located(&skeleton).0;
    let parsed = if json {
        serde_json::from_str::<OpenAPI>(body).map_err(|e| (Some(e.line()), e.to_string()))
    } else {
        serde_norway::from_str::<OpenAPI>(text)
            .map_err(|e| (e.location().map(|l| l.line()), e.to_string()))
    };
    // A key written as a number where `openapiv3` wants text (`1:` in a
    // discriminator's mapping) or an integer beyond 64 bits fail as read; the
    // document as JSON would have them (keys as text, such integers as
    // floats) is read instead. Errors keep the lines of the text.
    let parsed = match parsed {
        Err(error) if !json => serde_norway::from_value(raw.clone()).map_err(|_| error),
        parsed => parsed,
    };
    let mut api = parsed.map_err(|(line, e)| {
        if !unknown_keys.is_empty() {
            // What `openapiv3` cannot read is likely what was misspelled.
            return SpecErrors(unknown_keys.clone());
        }
        fail(line, "#", format!("not a valid OpenAPI 3.0 document: {e}"))
    })?;
    let hoisted = hoist_deep_refs(&mut raw);
    if !hoisted.is_empty() {
        api = serde_norway::from_value(raw.clone()).map_err(|e| {
            fail(
                None,
                "#",
                format!("not a valid OpenAPI 3.0 document once its deep `$ref`s are resolved: {e}"),
            )
        })?;
    }
    Ok(Document {
        api,
        raw,
        unknown_keys,
        hoisted,
        ..skeleton
    })
}

/// The schemas that `$ref`s point into other than by
/// `#/components/schemas/<Name>` (a part of another schema, a property, the
/// schema of a response or parameter: `#/components/schemas/Tag/allOf/0`,
/// `#/components/responses/Conflict/content/application~1json/schema`) are
/// copied into `components.schemas` under a name made from the pointer, and
/// those `$ref`s rewritten to them. Returns each new schema's pointer with
/// the pointer it was copied from, for error lines.
fn hoist_deep_refs(raw: &mut Value) -> Vec<(String, String)> {
    let mut hoisted: Vec<(String, String)> = Vec::new();
    // Copies may hold deep `$ref`s of their own: a few rounds.
    for _ in 0..8 {
        let mut deep = Vec::new();
        collect_deep_refs(raw, &mut deep);
        deep.retain(|(pointer, _)| !hoisted.iter().any(|(_, from)| from == pointer));
        if deep.is_empty() {
            break;
        }
        let mut renames = Vec::new();
        for (pointer, section) in deep {
            let Some(target) = resolve_pointer(raw, &pointer).cloned() else {
                continue; // Left to the lowering's "does not exist" error.
            };
            if !matches!(target, Value::Mapping(_)) {
                continue;
            }
            let Some(components) = components_section(raw, section) else {
                break;
            };
            // A parameter is named by its `name`; anything else by its pointer.
            let base = match (section, target.get("name").and_then(Value::as_str)) {
                ("parameters", Some(name)) => {
                    crate::codegen::names::pascal(name).unwrap_or_else(|| hoisted_name(&pointer))
                }
                _ => hoisted_name(&pointer),
            };
            let mut name = base.clone();
            let mut n = 2;
            while components.contains_key(name.as_str()) {
                name = format!("{base}{n}");
                n += 1;
            }
            components.insert(Value::String(name.clone()), target);
            let to = format!("#/components/{section}/{}", escape(&name));
            renames.push((pointer.clone(), to.clone()));
            hoisted.push((to, pointer));
        }
        if renames.is_empty() {
            break;
        }
        rewrite_refs(raw, &renames);
    }
    hoisted
}

/// The section of `components` a deep `$ref` is copied into, if it is one:
/// a schema (see [`is_deep_schema_ref`]), or a parameter, response or
/// request body of an operation (`#/paths/~1a/get/parameters/1`).
fn deep_ref_section(pointer: &str) -> Option<&'static str> {
    if is_deep_schema_ref(pointer) {
        return Some("schemas");
    }
    let rest = pointer.strip_prefix("#/paths/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let (before, last) = last_two(&segments);
    match (before, last) {
        (Some("parameters"), _) => Some("parameters"),
        (Some("responses"), _) => Some("responses"),
        (_, "requestBody") => Some("requestBodies"),
        _ => None,
    }
}

/// Whether a `$ref` points into a schema deeper than
/// `#/components/schemas/<Name>`, or at the schema of a response, body or
/// parameter.
fn is_deep_schema_ref(pointer: &str) -> bool {
    let Some(rest) = pointer.strip_prefix("#/") else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() <= 3 && segments.first() == Some(&"components") {
        return false;
    }
    let (before, last) = last_two(&segments);
    rest.starts_with("components/schemas/")
        || last == "schema"
        || last == "items"
        || last == "additionalProperties"
        || matches!(before, Some("properties" | "allOf" | "oneOf" | "anyOf"))
}

/// A pointer's last segment and the one before it, if there is one.
fn last_two<'s>(segments: &[&'s str]) -> (Option<&'s str>, &'s str) {
    match segments {
        [.., before, last] => (Some(before), last),
        [last] => (None, last),
        [] => (None, ""),
    }
}

fn collect_deep_refs(node: &Value, out: &mut Vec<(String, &'static str)>) {
    match node {
        Value::Mapping(map) => {
            if let Some(Value::String(reference)) = map.get("$ref")
                && let Some(section) = deep_ref_section(reference)
                && !out.iter().any(|(r, _)| r == reference)
            {
                out.push((reference.clone(), section));
            }
            for (_, value) in map {
                collect_deep_refs(value, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_deep_refs(v, out)),
        _ => {}
    }
}

fn rewrite_refs(node: &mut Value, renames: &[(String, String)]) {
    match node {
        Value::Mapping(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some((_, to)) = renames.iter().find(|(from, _)| from == reference)
            {
                *reference = to.clone();
            }
            for (_, value) in map.iter_mut() {
                rewrite_refs(value, renames);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

fn resolve_pointer<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
    let mut node = root;
    for segment in pointer.strip_prefix("#/")?.split('/') {
        let key = unescape(segment);
        node = match node {
            Value::Mapping(map) => map.get(key.as_str())?,
            Value::Sequence(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn components_section<'v>(
    raw: &'v mut Value,
    section: &str,
) -> Option<&'v mut serde_norway::Mapping> {
    let Value::Mapping(root) = raw else {
        return None;
    };
    let components = root
        .entry(Value::String("components".to_owned()))
        .or_insert_with(|| Value::Mapping(Default::default()));
    let Value::Mapping(components) = components else {
        return None;
    };
    let entries = components
        .entry(Value::String(section.to_owned()))
        .or_insert_with(|| Value::Mapping(Default::default()));
    match entries {
        Value::Mapping(entries) => Some(entries),
        _ => None,
    }
}

/// A schema name for a deep `$ref`: its segments that name something, in
/// PascalCase (`Tag/allOf/0` → `TagAllOf0`, `responses/Conflict/content/
/// application~1json/schema` → `ConflictResponse`).
fn hoisted_name(pointer: &str) -> String {
    let mut words = Vec::new();
    let segments: Vec<String> = pointer
        .trim_start_matches("#/")
        .split('/')
        .map(unescape)
        .collect();
    let mut suffix = "";
    for (i, segment) in segments.iter().enumerate() {
        match segment.as_str() {
            "components" | "schemas" | "content" | "schema" | "properties" | "paths" => {}
            "responses" if i == 1 => suffix = "Response",
            "parameters" if i == 1 => suffix = "Parameter",
            "requestBodies" if i == 1 => suffix = "Body",
            "headers" if i == 1 => suffix = "Header",
            media if media.contains('/') && i > 0 && segments[i - 1] == "content" => {}
            other => words.push(other.to_owned()),
        }
    }
    words.push(suffix.to_owned());
    let name = crate::codegen::names::pascal(&words.join(" ")).unwrap_or_default();
    if name.is_empty() {
        "Hoisted".to_owned()
    } else {
        name
    }
}

impl Document {
    /// The `description` beside the `$ref` at `pointer` (OpenAPI 3.0 ignores
    /// siblings of `$ref`, and `openapiv3` drops them; 3.1 and most tools
    /// read this one, which says what a property is where the referenced
    /// schema says what its type is).
    pub(crate) fn sibling_description(&self, pointer: &str) -> Option<&str> {
        let mut node = &self.raw;
        for segment in pointer.strip_prefix("#/")?.split('/') {
            let key = segment.replace("~1", "/").replace("~0", "~");
            node = match node {
                Value::Mapping(map) => map.get(key.as_str())?,
                Value::Sequence(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        node.get("$ref")?;
        node.get("description")?.as_str()
    }
}

/// The keywords of an OpenAPI 3.0 Schema Object. Anything else (but `x-`
/// extensions) is a typo that `openapiv3` would silently drop.
const SCHEMA_KEYWORDS: &[&str] = &[
    "$ref",
    "title",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "type",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "items",
    "properties",
    "additionalProperties",
    "description",
    "format",
    "default",
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
];

/// Parameters and headers with both `schema` and `content`, links with both
/// `operationId` and `operationRef`, wherever OpenAPI 3.0 has them.
fn find_either_or(raw: &Value, errors: &mut Vec<SpecError>) {
    fn entries<'v>(value: Option<&'v Value>, at: &str) -> Vec<(String, &'v Value)> {
        match value {
            Some(Value::Mapping(map)) => map
                .iter()
                // Keys are text by now (`make_json`).
                .map(|(key, v)| {
                    (
                        format!("{at}/{}", escape(key.as_str().unwrap_or_default())),
                        v,
                    )
                })
                .collect(),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{at}/{i}"), v))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn both(value: &Value, at: &str, keys: [&str; 2], what: &str, errors: &mut Vec<SpecError>) {
        if keys.iter().all(|key| value.get(key).is_some()) {
            errors.push(SpecError::at(
                &format!("{at}/{}", keys[1]),
                format!("a {what} has `{}` or `{}`, not both", keys[0], keys[1]),
            ));
        }
    }
    fn parameter(value: &Value, at: &str, what: &str, errors: &mut Vec<SpecError>) {
        both(value, at, ["schema", "content"], what, errors);
        content(value, at, errors);
    }
    fn content(value: &Value, at: &str, errors: &mut Vec<SpecError>) {
        for (media_at, media) in entries(value.get("content"), &format!("{at}/content")) {
            for (encoding_at, encoding) in
                entries(media.get("encoding"), &format!("{media_at}/encoding"))
            {
                headers(encoding, &encoding_at, errors);
            }
        }
    }
    fn headers(value: &Value, at: &str, errors: &mut Vec<SpecError>) {
        for (header_at, header) in entries(value.get("headers"), &format!("{at}/headers")) {
            parameter(header, &header_at, "header", errors);
        }
    }
    fn link(value: &Value, at: &str, errors: &mut Vec<SpecError>) {
        both(value, at, ["operationId", "operationRef"], "link", errors);
    }
    fn response(value: &Value, at: &str, errors: &mut Vec<SpecError>) {
        headers(value, at, errors);
        content(value, at, errors);
        for (link_at, value) in entries(value.get("links"), &format!("{at}/links")) {
            link(value, &link_at, errors);
        }
    }
    fn path_item(item: &Value, at: &str, errors: &mut Vec<SpecError>) {
        for (parameter_at, value) in entries(item.get("parameters"), &format!("{at}/parameters")) {
            parameter(value, &parameter_at, "parameter", errors);
        }
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                let at = format!("{at}/{method}");
                operation_object(operation, &at, errors);
            }
        }
    }
    fn operation_object(operation: &Value, at: &str, errors: &mut Vec<SpecError>) {
        for (parameter_at, value) in
            entries(operation.get("parameters"), &format!("{at}/parameters"))
        {
            parameter(value, &parameter_at, "parameter", errors);
        }
        if let Some(body) = operation.get("requestBody") {
            content(body, &format!("{at}/requestBody"), errors);
        }
        for (response_at, value) in entries(operation.get("responses"), &format!("{at}/responses"))
        {
            response(value, &response_at, errors);
        }
        for (callback_at, callback) in
            entries(operation.get("callbacks"), &format!("{at}/callbacks"))
        {
            for (item_at, item) in entries(Some(callback), &callback_at) {
                path_item(item, &item_at, errors);
            }
        }
    }
    for (at, item) in entries(raw.get("paths"), "#/paths") {
        path_item(item, &at, errors);
    }
    let components = raw.get("components");
    let section = |name: &str| {
        entries(
            components.and_then(|c| c.get(name)),
            &format!("#/components/{name}"),
        )
    };
    for (at, value) in section("parameters") {
        parameter(value, &at, "parameter", errors);
    }
    for (at, value) in section("headers") {
        parameter(value, &at, "header", errors);
    }
    for (at, value) in section("responses") {
        response(value, &at, errors);
    }
    for (at, value) in section("requestBodies") {
        content(value, &at, errors);
    }
    for (at, value) in section("links") {
        link(value, &at, errors);
    }
    for (callback_at, callback) in section("callbacks") {
        for (item_at, item) in entries(Some(callback), &callback_at) {
            path_item(item, &item_at, errors);
        }
    }
}

/// Makes the document one that JSON can write, as OpenAPI documents are
/// JSON: keys that are numbers or booleans (`200:`, `1:` in a discriminator's
/// mapping) become their text, as a YAML-to-JSON conversion writes them. A key
/// that is null, a sequence or a mapping, two keys that are one once written
/// (`1` and `'1'`) and a number JSON has not (`.nan`, `.inf`) are errors at
/// their pointer.
fn make_json(value: &mut Value, pointer: &str, errors: &mut Vec<SpecError>) {
    match value {
        Value::Number(n) if n.as_f64().is_some_and(|f| !f.is_finite()) => {
            errors.push(SpecError::at(
                pointer,
                format!("`{n}` is not a number JSON can write; OpenAPI documents are JSON"),
            ));
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                make_json(item, &format!("{pointer}/{i}"), errors);
            }
        }
        Value::Mapping(map) => {
            let mut keyed = serde_norway::Mapping::with_capacity(map.len());
            for (key, mut item) in std::mem::take(map) {
                let text = match key {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        let what = match other {
                            Value::Null => "null",
                            Value::Sequence(_) => "a sequence",
                            Value::Mapping(_) => "a mapping",
                            _ => "tagged",
                        };
                        errors.push(SpecError::at(
                            pointer,
                            format!("a key here is {what}; keys are strings (or numbers and booleans, read as their text)"),
                        ));
                        continue;
                    }
                };
                let at = format!("{pointer}/{}", escape(&text));
                make_json(&mut item, &at, errors);
                if keyed.contains_key(text.as_str()) {
                    errors.push(SpecError::at(
                        &at,
                        format!("the key `{text}` is written twice, as a number or boolean and as text, which JSON makes one key"),
                    ));
                    continue;
                }
                keyed.insert(Value::String(text), item);
            }
            *map = keyed;
        }
        Value::Tagged(tagged) => make_json(&mut tagged.value, pointer, errors),
        _ => {}
    }
}

fn check_schema_keywords(schema: &Value, pointer: &str, errors: &mut Vec<SpecError>) {
    let Value::Mapping(map) = schema else {
        if !matches!(schema, Value::Bool(_)) {
            errors.push(SpecError::at(pointer, "a schema must be a mapping"));
        }
        return;
    };
    // Keys are text by now (`make_json`).
    for (key, value) in map {
        let Some(key) = key.as_str() else { continue };
        let child = format!("{pointer}/{}", escape(key));
        if key.starts_with("x-") {
            continue;
        }
        if !SCHEMA_KEYWORDS.contains(&key) {
            errors.push(SpecError::at(
                &child,
                format!("unknown schema keyword `{key}`; OpenAPI 3.0 schema keywords are {}, or an `x-` extension", SCHEMA_KEYWORDS.join(", ")),
            ));
            continue;
        }
        match (key, value) {
            ("properties", Value::Mapping(props)) => {
                for (name, prop) in props {
                    let name = name.as_str().unwrap_or_default();
                    check_schema_keywords(prop, &format!("{child}/{}", escape(name)), errors);
                }
            }
            ("items" | "additionalProperties" | "not", v @ Value::Mapping(_)) => {
                check_schema_keywords(v, &child, errors);
            }
            ("allOf" | "oneOf" | "anyOf", Value::Sequence(list)) => {
                for (i, item) in list.iter().enumerate() {
                    check_schema_keywords(item, &format!("{child}/{i}"), errors);
                }
            }
            _ => {}
        }
    }
}

const PATH_ITEM_KEYS: &[&str] = &[
    "$ref",
    "summary",
    "description",
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "trace",
    "servers",
    "parameters",
];
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const OPERATION_KEYS: &[&str] = &[
    "tags",
    "summary",
    "description",
    "externalDocs",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "callbacks",
    "deprecated",
    "security",
    "servers",
];
const PARAMETER_KEYS: &[&str] = &[
    "$ref",
    "name",
    "in",
    "description",
    "required",
    "deprecated",
    "allowEmptyValue",
    "style",
    "explode",
    "allowReserved",
    "schema",
    "example",
    "examples",
    "content",
];
const RESPONSE_KEYS: &[&str] = &["$ref", "description", "headers", "content", "links"];
const MEDIA_TYPE_KEYS: &[&str] = &["schema", "example", "examples", "encoding"];

/// Refuses unknown keys (typos such as `requried`, which `openapiv3` would
/// silently drop) in path items, operations, parameters and responses, and
/// response keys that are not a status, a range or `default`.
fn check_operations(raw: &Value, errors: &mut Vec<SpecError>) {
    let components = raw.get("components");
    if let Some(Value::Mapping(parameters)) = components.and_then(|c| c.get("parameters")) {
        for (name, parameter) in parameters {
            let at = format!(
                "#/components/parameters/{}",
                escape(name.as_str().unwrap_or_default())
            );
            check_keys(parameter, &at, PARAMETER_KEYS, "parameter", errors);
        }
    }
    if let Some(Value::Mapping(responses)) = components.and_then(|c| c.get("responses")) {
        for (name, response) in responses {
            let at = format!(
                "#/components/responses/{}",
                escape(name.as_str().unwrap_or_default())
            );
            check_response(response, &at, errors);
        }
    }
    let Some(Value::Mapping(paths)) = raw.get("paths") else {
        return;
    };
    for (path, item) in paths {
        let path_at = format!("#/paths/{}", escape(path.as_str().unwrap_or_default()));
        check_keys(item, &path_at, PATH_ITEM_KEYS, "path item", errors);
        check_parameters(
            item.get("parameters"),
            &format!("{path_at}/parameters"),
            errors,
        );
        for method in METHODS {
            let Some(operation) = item.get(*method) else {
                continue;
            };
            let at = format!("{path_at}/{method}");
            check_keys(operation, &at, OPERATION_KEYS, "operation", errors);
            check_parameters(
                operation.get("parameters"),
                &format!("{at}/parameters"),
                errors,
            );
            if let Some(Value::Mapping(responses)) = operation.get("responses") {
                for (status, response) in responses {
                    // Keys are text by now (`make_json`): `200:` is "200".
                    let status = status.as_str().unwrap_or_default();
                    let response_at = format!("{at}/responses/{}", escape(status));
                    if !is_status_key(status) {
                        errors.push(SpecError::at(
                            &response_at,
                            format!("`{status}` is not a response key; use a status code (`200`), a range (`4XX`), `default` or an `x-` extension"),
                        ));
                        continue;
                    }
                    if !status.starts_with("x-") {
                        check_response(response, &response_at, errors);
                    }
                }
            }
        }
    }
}

fn check_parameters(list: Option<&Value>, at: &str, errors: &mut Vec<SpecError>) {
    if let Some(Value::Sequence(list)) = list {
        for (i, parameter) in list.iter().enumerate() {
            check_keys(
                parameter,
                &format!("{at}/{i}"),
                PARAMETER_KEYS,
                "parameter",
                errors,
            );
        }
    }
}

fn check_response(response: &Value, at: &str, errors: &mut Vec<SpecError>) {
    check_keys(response, at, RESPONSE_KEYS, "response", errors);
    if let Some(Value::Mapping(content)) = response.get("content") {
        for (media, body) in content {
            let media_at = format!(
                "{at}/content/{}",
                escape(media.as_str().unwrap_or_default())
            );
            check_keys(body, &media_at, MEDIA_TYPE_KEYS, "media type", errors);
        }
    }
}

fn is_status_key(key: &str) -> bool {
    let b = key.as_bytes();
    key == "default"
        || key.starts_with("x-")
        || (b.len() == 3
            && (b'1'..=b'5').contains(&b[0])
            && ((b[1].is_ascii_digit() && b[2].is_ascii_digit()) || &b[1..] == b"XX"))
}

/// Every key of the mapping `value` must be in `allowed` or an `x-` extension.
fn check_keys(value: &Value, at: &str, allowed: &[&str], what: &str, errors: &mut Vec<SpecError>) {
    let Value::Mapping(map) = value else { return };
    // Keys are text by now (`make_json`).
    for key in map.keys().filter_map(Value::as_str) {
        if !key.starts_with("x-") && !allowed.contains(&key) {
            errors.push(SpecError::at(
                &format!("{at}/{}", escape(key)),
                format!("unknown {what} key `{key}`; the keys of an OpenAPI 3.0 {what} are {}, or an `x-` extension", allowed.join(", ")),
            ));
        }
    }
}

/// Escapes one JSON pointer token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer token's text: percent-decoded (a pointer in a URI
/// fragment may be: `~1v2~1%7Bid%7D`), then `~1` and `~0` unescaped.
fn unescape(token: &str) -> String {
    percent_encoding::percent_decode_str(token)
        .decode_utf8()
        .map_or_else(|_| token.to_owned(), |decoded| decoded.into_owned())
        .replace("~1", "/")
        .replace("~0", "~")
}

impl Document {
    /// Resolves `#/components/schemas/Name` to the name and the schema.
    pub(crate) fn schema_ref<'a>(
        &'a self,
        reference: &str,
        at: &str,
    ) -> Result<(&'a str, &'a Schema), SpecError> {
        let schemas = self.api.components.as_ref().map(|c| &c.schemas);
        let mut current = reference.to_owned();
        // A component that is itself a `$ref` (`Pet: {$ref: Animal}`) stands
        // for its target; a chain that loops is refused.
        for _ in 0..16 {
            let name = current.strip_prefix("#/components/schemas/").ok_or_else(|| {
                SpecError::at(at, format!("unsupported $ref `{current}`; only `#/components/schemas/<Name>` is supported for schemas"))
            })?;
            match schemas.and_then(|s| s.get_key_value(&unescape(name))) {
                Some((key, ReferenceOr::Item(schema))) => return Ok((key.as_str(), schema)),
                Some((_, ReferenceOr::Reference { reference })) => current = reference.clone(),
                None => {
                    let hint = schemas
                        .and_then(|s| {
                            let keys: Vec<&str> = s.keys().map(String::as_str).collect();
                            crate::codegen::names::closest(&unescape(name), &keys).map(|c| {
                                format!("; did you mean `#/components/schemas/{}`?", escape(c))
                            })
                        })
                        .unwrap_or_default();
                    return Err(SpecError::at(
                        at,
                        format!("$ref `{current}` does not exist in components.schemas{hint}"),
                    ));
                }
            }
        }
        Err(SpecError::at(
            at,
            format!("$ref `{reference}` leads through a loop of component `$ref`s"),
        ))
    }

    /// Resolves a parameter that may be a `$ref` to `#/components/parameters/Name`,
    /// returning it with the pointer where it is defined.
    pub(crate) fn parameter<'a>(
        &'a self,
        item: &'a ReferenceOr<Parameter>,
        at: &str,
    ) -> Result<(&'a Parameter, String), SpecError> {
        let components = self.api.components.as_ref();
        resolve_component(item, at, "parameters", |name| {
            components?.parameters.get(name)
        })
    }

    /// Resolves a response that may be a `$ref` to `#/components/responses/Name`.
    pub(crate) fn response<'a>(
        &'a self,
        item: &'a ReferenceOr<Response>,
        at: &str,
    ) -> Result<(&'a Response, String), SpecError> {
        let components = self.api.components.as_ref();
        resolve_component(item, at, "responses", |name| {
            components?.responses.get(name)
        })
    }

    /// The 1-based line where the construct at `pointer` starts, for specs in
    /// YAML block style. Falls back to the nearest enclosing construct found.
    pub(crate) fn line_of(&self, pointer: &str) -> Option<usize> {
        let original;
        let mut pointer = pointer;
        for (now, from) in &self.hoisted {
            if let Some(rest) = pointer.strip_prefix(now.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                original = format!("{from}{rest}");
                pointer = &original;
                break;
            }
        }
        let tokens: Vec<String> = pointer
            .trim_start_matches('#')
            .split('/')
            .skip(1)
            .map(unescape)
            .collect();
        let lines: Vec<Line<'_>> = self
            .lines
            .iter()
            .map(|span| Line {
                number: span.number,
                indent: span.indent,
                content: &self.text[span.start..span.end],
            })
            .collect();
        locate(&lines, &tokens)
    }
}

/// Resolves an item that may be a `$ref` to `#/components/<kind>/<Name>`,
/// returning it with the pointer where it is defined.
fn resolve_component<'a, T>(
    item: &'a ReferenceOr<T>,
    at: &str,
    kind: &str,
    lookup: impl Fn(&str) -> Option<&'a ReferenceOr<T>>,
) -> Result<(&'a T, String), SpecError> {
    let reference = match item {
        ReferenceOr::Item(item) => return Ok((item, at.to_owned())),
        ReferenceOr::Reference { reference } => reference,
    };
    let prefix = format!("#/components/{kind}/");
    let name = reference.strip_prefix(&prefix).ok_or_else(|| {
        SpecError::at(
            at,
            format!("unsupported $ref `{reference}`; {kind} may only refer to `{prefix}<Name>`"),
        )
    })?;
    match lookup(&unescape(name)) {
        Some(ReferenceOr::Item(item)) => Ok((item, format!("{prefix}{name}"))),
        Some(_) => Err(SpecError::at(
            at,
            format!(
                "$ref `{reference}` points to another $ref; define it inline in components.{kind}"
            ),
        )),
        None => Err(SpecError::at(
            at,
            format!("$ref `{reference}` does not exist in components.{kind}"),
        )),
    }
}

/// A line of YAML: its indentation and its content without comments.
struct Line<'a> {
    number: usize,
    indent: usize,
    content: &'a str,
}

/// Where a [`Line`] is in the text.
struct LineSpan {
    number: usize,
    indent: usize,
    start: usize,
    end: usize,
}

fn line_spans(text: &str) -> Vec<LineSpan> {
    let mut spans = Vec::new();
    let mut offset = 0;
    for (i, raw_with_end) in text.split_inclusive('\n').enumerate() {
        let start_of_line = offset;
        offset += raw_with_end.len();
        let raw = raw_with_end.trim_end_matches(['\n', '\r']);
        let content = raw.trim_start_matches(' ');
        // Blank lines, comments, and lines of JSON brackets alone (`{`, `},`):
        // a JSON spec's keys are then found by their indentation as YAML's.
        if content.is_empty()
            || content.starts_with('#')
            || content == "---"
            || content.trim_end().chars().all(|c| "{}[],".contains(c))
        {
            continue;
        }
        let indent = raw.len() - content.len();
        let trimmed = content.trim_end();
        spans.push(LineSpan {
            number: i + 1,
            indent,
            start: start_of_line + indent,
            end: start_of_line + indent + trimmed.len(),
        });
    }
    spans
}

fn key_of(content: &str) -> Option<String> {
    let (key, _) = if let Some(rest) = content.strip_prefix('\'') {
        let end = rest.find("':")?;
        (rest[..end].replace("''", "'"), ())
    } else if let Some(rest) = content.strip_prefix('"') {
        let end = rest.find("\":")?;
        (rest[..end].to_owned(), ())
    } else {
        let end = content
            .find(": ")
            .or_else(|| content.strip_suffix(':').map(|k| k.len()))?;
        (content[..end].trim_end().to_owned(), ())
    };
    Some(key)
}

/// Walks the block-style YAML along `tokens`; returns the line of the deepest
/// construct reached.
fn locate(lines: &[Line<'_>], tokens: &[String]) -> Option<usize> {
    // The current node: the range of lines holding its children, the indent
    // of its own line, and a virtual first line for sequence items
    // (`- key: value` is the mapping `key: value` indented past the dash).
    let mut start = 0;
    let mut end = lines.len();
    let mut parent_indent: isize = -1;
    let mut found: Option<usize> = None;
    let mut virtual_first: Option<(usize, usize, &str)> = None;
    for token in tokens {
        let view = |i: usize| -> (usize, &str) {
            match virtual_first {
                Some((at, indent, content)) if at == i => (indent, content),
                _ => (lines[i].indent, lines[i].content),
            }
        };
        // The children are the lines of the smallest indent deeper than the parent.
        let child_indent = (start..end)
            .map(|i| view(i).0)
            .filter(|&ind| ind as isize > parent_indent)
            .min();
        let child_indent = match child_indent {
            Some(ind) => ind,
            None => {
                // A sequence may sit at the same indent as its key; a flow
                // collection (`[a, b]`) ends the walk at its key's line.
                match (start..end).map(view).find(|(_, c)| c.starts_with("- ")) {
                    Some((ind, _)) => ind,
                    None => return found,
                }
            }
        };
        let mut hit = None;
        let is_sequence = (start..end)
            .map(view)
            .find(|(ind, _)| *ind == child_indent)
            .is_some_and(|(_, c)| c.starts_with("- ") || c == "-");
        let index = if is_sequence {
            token.parse::<usize>().ok()
        } else {
            None
        };
        if let Some(index) = index {
            let items: Vec<usize> = (start..end)
                .filter(|&i| {
                    let (ind, c) = view(i);
                    ind == child_indent && (c.starts_with("- ") || c == "-")
                })
                .collect();
            if let Some(&i) = items.get(index) {
                hit = Some(i);
                let (ind, c) = view(i);
                let rest = c.strip_prefix('-').unwrap_or(c).trim_start();
                let item_end = (i + 1..end).find(|&j| view(j).0 <= ind).unwrap_or(end);
                found = Some(lines[i].number);
                virtual_first = (!rest.is_empty()).then_some((i, ind + 2, rest));
                start = if rest.is_empty() { i + 1 } else { i };
                end = item_end;
                parent_indent = ind as isize;
            }
        } else {
            let key_line = (start..end).find(|&i| {
                let (ind, c) = view(i);
                ind == child_indent && key_of(c).as_deref() == Some(token.as_str())
            });
            if let Some(i) = key_line {
                hit = Some(i);
                let ind = view(i).0;
                let item_end = (i + 1..end).find(|&j| view(j).0 <= ind).unwrap_or(end);
                found = Some(lines[i].number);
                start = i + 1;
                end = item_end;
                parent_indent = ind as isize;
                virtual_first = None;
            }
        }
        if hit.is_none() {
            return found;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
openapi: 3.0.3
paths:
  /v1/things/{id}:
    get:
      parameters:
        - name: a
          in: query
        - $ref: '#/components/parameters/B'
      responses:
        '200':
          description: ok
components:
  schemas:
    Thing:
      type: object
";

    fn check(pointer: &str, line: Option<usize>) {
        let tokens: Vec<String> = pointer
            .trim_start_matches('#')
            .split('/')
            .skip(1)
            .map(unescape)
            .collect();
        let lines: Vec<Line<'_>> = line_spans(TEXT)
            .iter()
            .map(|span| Line {
                number: span.number,
                indent: span.indent,
                content: &TEXT[span.start..span.end],
            })
            .collect();
        assert_eq!(locate(&lines, &tokens), line, "{pointer}");
    }

    #[test]
    fn deep_refs_become_components_with_names_from_their_pointers() {
        assert_eq!(
            hoisted_name("#/components/schemas/Tag/allOf/0"),
            "TagAllOf0"
        );
        assert_eq!(
            hoisted_name("#/components/responses/Conflict/content/application~1json/schema"),
            "ConflictResponse"
        );
        assert_eq!(
            hoisted_name("#/components/parameters/kind/schema"),
            "KindParameter"
        );
        assert_eq!(
            hoisted_name("#/components/schemas/Field/properties/data_type"),
            "FieldDataType"
        );
        assert!(!is_deep_schema_ref("#/components/schemas/Tag"));
        assert!(!is_deep_schema_ref("#/components/responses/Conflict"));
        assert!(!is_deep_schema_ref("#/paths/~1x/get/responses/200"));
        let text = "openapi: 3.0.3
info: {title: t, version: '1'}
paths: {}
components:
  schemas:
    Tag:
      allOf:
        - type: object
          properties:
            id: {type: string}
    TagAllOf0: {type: string}
    List:
      type: object
      properties:
        tag: {$ref: '#/components/schemas/Tag/allOf/0'}
        again: {$ref: '#/components/schemas/Tag/allOf/0'}
";
        let document = load("t.yaml", text).expect("loads");
        // The name is taken: the copy is `TagAllOf02`, both `$ref`s point at
        // it, and its errors are located at the original.
        let schemas = &document
            .api
            .components
            .as_ref()
            .expect("components")
            .schemas;
        assert!(schemas.contains_key("TagAllOf02"));
        let refs: Vec<_> = document.raw["components"]["schemas"]["List"]["properties"]
            .as_mapping()
            .expect("properties")
            .values()
            .map(|p| p["$ref"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(refs, ["#/components/schemas/TagAllOf02"; 2]);
        assert_eq!(
            document.line_of("#/components/schemas/TagAllOf02/properties/id"),
            Some(10)
        );
    }

    #[test]
    fn json_keys_have_lines() {
        let text = "{\n  \"openapi\": \"3.0.3\",\n  \"info\": {\"title\": \"t\", \"version\": \"1\"},\n  \"paths\": {\n    \"/x\": {\n      \"get\": {\n        \"responses\": {}\n      }\n    }\n  }\n}\n";
        let document = load("t.json", text).expect("loads");
        assert_eq!(document.line_of("#/paths/~1x/get/responses"), Some(7));
        assert_eq!(document.line_of("#/info/title"), Some(3));
    }

    #[test]
    fn mapping_keys() {
        check("#/components/schemas/Thing", Some(14));
        check("#/components/schemas/Thing/type", Some(15));
    }

    #[test]
    fn escaped_path_and_sequence_items() {
        check("#/paths/~1v1~1things~1{id}/get/parameters/0", Some(6));
        check("#/paths/~1v1~1things~1{id}/get/parameters/0/in", Some(7));
        check("#/paths/~1v1~1things~1{id}/get/parameters/1", Some(8));
        check("#/paths/~1v1~1things~1{id}/get/responses/200", Some(10));
    }

    #[test]
    fn missing_construct_points_at_its_parent() {
        check("#/components/schemas/Nope", Some(13));
    }
}
