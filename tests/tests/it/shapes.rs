//! The constructs of specs written elsewhere, on the wire: the client
//! generated from `tests/fixtures/specs/shapes.yaml` (tagged and untagged
//! unions, allOf, extra properties, form, text and byte bodies, a body only
//! some successes have, an inline error body, an operation's own
//! `Authorization`, no security) against a mock server on 127.0.0.1.

use pc_codegen_fixtures::shapes::{self, Client, ErrorBody, types};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, json};

fn client(server: &MockServer) -> Client {
    // The spec declares no security: no credentials needed.
    Client::builder()
        .base_url(server.uri())
        .build()
        .expect("a client without credentials")
}

#[test]
fn server_variables_take_their_defaults() {
    assert_eq!(shapes::DEFAULT_BASE_URL, "https://eu.shapes.example.com/v1");
    let client = Client::builder().build().expect("default base URL");
    assert_eq!(client.base_url(), "https://eu.shapes.example.com/v1");
}

#[tokio::test]
async fn tagged_union_decodes_by_tag_and_keeps_unknown_tags() {
    let server = support::serve(json(
        200,
        r#"[
          {"petType": "dog", "name": "Rex", "barks": true,
           "friend": {"petType": "cat", "name": "Tom", "lives": 9}},
          {"petType": "cat", "name": "Kit", "whiskers": 24, "colour": "grey", "mood": "aloof"},
          {"petType": "parrot", "name": "Polly", "words": 12},
          {"name": "Nobody"}
        ]"#,
    ))
    .await;
    let pets = client(&server)
        .list_pets()
        .tags(["small", "quiet"])
        .ids([3, 14])
        .send()
        .await
        .expect("pets")
        .into_inner();
    assert_eq!(pets.len(), 4);
    let types::Pet::Dog(dog) = &pets[0] else {
        panic!("a dog: {:?}", pets[0]);
    };
    assert_eq!(dog.name, "Rex");
    assert_eq!(dog.barks, Some(true));
    match dog.friend.as_deref() {
        Some(types::Pet::Cat(cat)) => assert_eq!((cat.name.as_str(), cat.lives), ("Tom", Some(9))),
        other => panic!("a cat friend: {other:?}"),
    }
    let types::Pet::Cat(cat) = &pets[1] else {
        panic!("a cat: {:?}", pets[1]);
    };
    // Properties the spec does not name are kept (`additionalProperties`).
    assert_eq!(cat.additional_properties.len(), 2);
    assert_eq!(cat.additional_properties["colour"], "grey");
    assert_eq!(cat.additional_properties["mood"], "aloof");
    // A tag nobody listed, and no tag, are kept as sent.
    match &pets[2] {
        types::Pet::Unknown(value) => assert_eq!(value["words"], 12),
        other => panic!("unknown: {other:?}"),
    }
    assert!(matches!(&pets[3], types::Pet::Unknown(v) if v["name"] == "Nobody"));

    // `explode: false` arrays go as one comma-separated value.
    let received = server.received_requests().await.expect("recorded");
    assert_eq!(
        received[0].url.query(),
        Some("tags=small%2Cquiet&ids=3%2C14")
    );
}

#[test]
fn tagged_union_writes_its_tag() {
    let dog = types::Pet::Dog(Box::new(types::Dog {
        name: "Rex".to_owned(),
        ..Default::default()
    }));
    let json = serde_json::to_value(&dog).expect("serialises");
    assert_eq!(json["petType"], "dog", "{json}");
    assert_eq!(json["name"], "Rex");
    let back: types::Pet = serde_json::from_value(json).expect("decodes");
    assert!(matches!(back, types::Pet::Dog(d) if d.name == "Rex" && d.pet_type == "dog"));
    // A tag the caller set is kept.
    let cat = types::Pet::Cat(types::Cat {
        pet_type: "cat".to_owned(),
        name: "Kit".to_owned(),
        ..Default::default()
    });
    let json = serde_json::to_value(&cat).expect("serialises");
    assert_eq!(json["petType"], "cat");
    // A tag that does not match its variant's declared shape is an error,
    // not a silent `Unknown`.
    let bad: Result<types::Pet, _> = serde_json::from_str(r#"{"petType": "dog", "name": 7}"#);
    assert!(bad.is_err());
}

#[tokio::test]
async fn form_body_and_a_body_that_only_some_successes_have() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .respond_with(json(201, r#"{"petType": "dog", "name": "Rex"}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .respond_with(json(422, r#"{"field": "age", "reason": "too old"}"#))
        .mount(&server)
        .await;
    let client = client(&server);
    let form = types::PetForm {
        name: "Rex & Co".to_owned(),
        age: Some(3),
    };
    let created = client.create_pet(form.clone()).send().await.expect("201");
    assert_eq!(created.status(), 201);
    assert!(matches!(created.into_inner(), Some(types::Pet::Dog(d)) if d.name == "Rex"));
    let accepted = client.create_pet(form.clone()).send().await.expect("204");
    assert_eq!(accepted.status(), 204);
    assert!(accepted.into_inner().is_none());
    let refused = client.create_pet(form).send().await.expect_err("422");
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(422));
    let body = refused.body().expect("decoded");
    match body {
        ErrorBody::CreatePetError422(e) => {
            assert_eq!(e.field.as_deref(), Some("age"));
            assert_eq!(e.reason.as_deref(), Some("too old"));
        }
        other => panic!("the inline error body: {other:?}"),
    }
    let received = server.received_requests().await.expect("recorded");
    assert_eq!(
        received[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        String::from_utf8_lossy(&received[0].body),
        "name=Rex+%26+Co&age=3"
    );
}

#[tokio::test]
async fn bytes_and_text_bodies() {
    let server = MockServer::start().await;
    let png: Vec<u8> = vec![0x89, b'P', b'N', b'G', 0, 0xff, 0x10];
    Mock::given(method("PUT"))
        .and(path("/pets/7/photo"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/7/photo"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(png.clone(), "image/png"))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/pets/7/notes"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("Good dog.\nNaps a lot.", "text/plain"),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .upload_photo(7, png.clone())
        .send()
        .await
        .expect("stored");
    let photo = client
        .get_photo(7)
        .send()
        .await
        .expect("photo")
        .into_inner();
    assert_eq!(photo, png);
    let notes = client
        .put_notes(7, "Good dog.\nNaps a lot.")
        .send()
        .await
        .expect("notes")
        .into_inner();
    assert_eq!(notes, "Good dog.\nNaps a lot.");

    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received[0].headers["content-type"], "image/png");
    assert_eq!(received[0].body, png);
    assert_eq!(received[1].headers["accept"], "*/*");
    assert_eq!(received[2].headers["content-type"], "text/plain");
    assert_eq!(received[2].body, b"Good dog.\nNaps a lot.");
    // No security in the spec and none configured: no Authorization.
    assert!(
        received
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
}

#[tokio::test]
#[allow(deprecated)]
async fn untagged_union_and_an_operations_own_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/shapes"))
        .respond_with(json(200, r#"{"radius": 1.5}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/shapes"))
        .respond_with(json(200, r#"{"side": 4}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/shapes"))
        .respond_with(json(200, r#"{"corners": 3}"#))
        .mount(&server)
        .await;
    // A client with its own token: the operation's parameter wins.
    let client = Client::builder()
        .base_url(server.uri())
        .bearer_token("client-token")
        .build()
        .expect("client");
    let circle = client
        .get_shape("Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("circle");
    assert!(matches!(circle.into_inner(), types::Shape::Circle(c) if c.radius == 1.5));
    let square = client
        .get_shape("Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("square");
    assert!(matches!(square.into_inner(), types::Shape::Square(s) if s.side == 4));
    let other = client
        .get_shape("Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("other");
    assert!(matches!(other.into_inner(), types::Shape::Other(v) if v["corners"] == 3));
    let received = server.received_requests().await.expect("recorded");
    for request in &received {
        assert_eq!(request.headers["authorization"], "Basic dXNlcjpwYXNz");
    }
}

#[test]
fn a_spec_with_security_still_requires_credentials() {
    // The torture spec declares bearer security: no credentials, no client.
    let error = pc_codegen_fixtures::torture::Client::builder()
        .build()
        .expect_err("credentials required");
    assert!(error.to_string().contains("no credentials"), "{error}");
}

#[tokio::test]
async fn names_that_collide_with_rust_or_the_runtime() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tasks"))
        .respond_with(json(200, r#"{"type": "queued", "client": {"name": "c1"}}"#))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/tasks"))
        .respond_with(json(409, r#"{"code": "Busy", "message": "try later"}"#))
        .mount(&server)
        .await;
    let client = client(&server);
    // The operation `task_submit` and the schema `TaskSubmit` both exist:
    // the builder is `builder::TaskSubmit`, the schema `types::TaskSubmit`.
    let task = types::TaskSubmit {
        what: "sweep".to_owned(),
        options: Some(types::OptionModel { verbose: None }),
    };
    let result: types::ResultModel = client
        .task_submit(task.clone())
        .priority(2)
        .send()
        .await
        .expect("result")
        .into_inner();
    assert_eq!(result.r#type, Some(types::Type::Queued));
    assert_eq!(
        result.client.and_then(|c: types::Client| c.name).as_deref(),
        Some("c1")
    );
    // `default` is the error body of every other status, with its code
    // and message in the error's text.
    let error = client.task_submit(task).send().await.expect_err("409");
    assert!(
        matches!(error.body(), Some(ErrorBody::Error(types::Error { code: Some(c), .. })) if c == "Busy")
    );
    let text = error.to_string();
    assert!(
        text.contains("Busy") && text.contains("try later"),
        "{text}"
    );
    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received[0].url.query(), Some("priority=2"));
    assert_eq!(
        String::from_utf8_lossy(&received[0].body),
        r#"{"what":"sweep","options":{}}"#
    );
}

#[tokio::test]
async fn a_spec_without_servers_takes_the_base_url_as_an_argument() {
    use pc_codegen_fixtures::serverless;
    let server = support::serve(ResponseTemplate::new(200).set_body_string("pong")).await;
    let client = serverless::Client::builder(server.uri())
        .build()
        .expect("no credentials needed");
    let pong = client.ping().send().await.expect("pong");
    assert_eq!(pong.into_inner(), "pong");
    // An empty base URL is refused.
    assert!(
        serverless::Client::builder("")
            .build()
            .expect_err("empty base URL")
            .to_string()
            .contains("base URL")
    );
}

#[test]
fn keys_written_as_numbers_are_read_as_text() {
    // wild.yaml's `Versioned`: a discriminator mapping `1:` / `2:` and a
    // property `1:`, YAML numbers that JSON (and the wire) writes as text.
    use pc_codegen_fixtures::wild::types::{V1, Versioned};
    let decoded: Vec<Versioned> = serde_json::from_str(
        r#"[{"version": "1", "1": "one", "2fa": true}, {"version": "2"}, {"version": "3"}]"#,
    )
    .expect("versioned values");
    assert_eq!(
        decoded[0],
        Versioned::V1(V1 {
            version: "1".into(),
            field_2fa: Some(true),
            field_1: Some("one".into()),
        })
    );
    assert!(matches!(&decoded[1], Versioned::V2(v) if v.version == "2"));
    assert!(matches!(&decoded[2], Versioned::Unknown(v) if v["version"] == "3"));
    let encoded = serde_json::to_value(&decoded[0]).expect("encodes");
    assert_eq!(
        encoded,
        serde_json::json!({"version": "1", "1": "one", "2fa": true})
    );
}

#[test]
fn an_integer_bound_beyond_64_bits_keeps_the_format() {
    // wild.yaml's `V2.count`: `format: uint64` with `maximum:
    // 18446744073709552000`, which the YAML reader cannot hold as an integer.
    use pc_codegen_fixtures::wild::types::{V2, Versioned};
    let decoded: Versioned =
        serde_json::from_str(r#"{"version": "2", "count": 18446744073709551615}"#)
            .expect("u64::MAX");
    assert_eq!(
        decoded,
        Versioned::V2(V2 {
            version: "2".into(),
            count: Some(u64::MAX),
        })
    );
}
