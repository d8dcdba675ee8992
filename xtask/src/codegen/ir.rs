//! The validated intermediate representation: the emitters' contract.
//! Types only; [`lower`](super::lower) builds them from the spec and decides
//! what is supported, [`emit`](super::emit) turns them into Rust.

/// The whole API as the emitters see it.
pub(crate) struct Api {
    pub(crate) title: String,
    pub(crate) version: String,
    /// The first server's URL; `None` when the spec lists none.
    pub(crate) base_url: Option<String>,
    /// Every server, the first being the default.
    pub(crate) servers: Vec<Server>,
    pub(crate) models: Vec<Model>,
    pub(crate) operations: Vec<Operation>,
    /// Models used as error bodies, in order of first use.
    pub(crate) error_bodies: Vec<ErrorBodyModel>,
    /// Whether the spec asks for credentials (a security requirement): the
    /// client then requires a token provider.
    pub(crate) authenticated: bool,
    /// Model name → index in `models`, for [`Api::model`].
    pub(crate) model_index: std::collections::HashMap<String, usize>,
    /// What the emitters work out about the models, once.
    pub(crate) derived: Derived,
}

/// Facts about the models that emitters ask often: computed on first use.
#[derive(Default)]
pub(crate) struct Derived {
    /// Model name → its group of models that hold each other directly.
    pub(crate) groups: std::cell::OnceCell<std::collections::HashMap<String, usize>>,
    /// Model name → whether `Default` can be derived.
    pub(crate) defaults: std::cell::RefCell<std::collections::HashMap<String, bool>>,
}

impl Api {
    /// The model of this name.
    pub(crate) fn model(&self, name: &str) -> Option<&Model> {
        self.model_index.get(name).map(|&i| &self.models[i])
    }
}

/// A model used as an error body, with the fields that `x-error-code` and
/// `x-error-message` name: what an error message shows of it.
pub(crate) struct ErrorBodyModel {
    pub(crate) name: String,
    pub(crate) code: Option<ErrorField>,
    pub(crate) message: Option<ErrorField>,
    /// The boolean field `x-error-retryable` names (a fault's `isRetryable`).
    pub(crate) retryable: Option<ErrorField>,
}

pub(crate) struct ErrorField {
    /// The Rust field name.
    pub(crate) name: String,
    /// Whether the field is an `Option`.
    pub(crate) optional: bool,
}

/// A named Rust type in `types`.
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) doc: Option<String>,
    pub(crate) kind: ModelKind,
    /// `deprecated: true` in the spec.
    pub(crate) deprecated: bool,
    /// Values a request body of this model always carries, whatever the
    /// caller set (`x-request-constants`): wire paths and string values.
    pub(crate) request_constants: Vec<RequestConstant>,
}

/// A string a request body always carries at a path of wire names, such as
/// `attributes.objectType: CustomerUser`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RequestConstant {
    pub(crate) path: Vec<String>,
    pub(crate) value: String,
}

/// A server of the spec: a base URL the client can be pointed at.
pub(crate) struct Server {
    /// The Rust variant name (`x-rust-name`, or from the host).
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) doc: Option<String>,
}

pub(crate) enum ModelKind {
    /// An object with known properties; `additional` keeps the other
    /// properties when the schema declares `additionalProperties` with a
    /// schema.
    Struct {
        fields: Vec<Field>,
        additional: Option<TypeRef>,
    },
    /// A `oneOf`/`anyOf` of objects: by the discriminator when there is one
    /// (an unknown tag kept as `Unknown`), else the first variant that
    /// decodes (anything else kept as `Other`).
    Union {
        variants: Vec<UnionVariant>,
        discriminator: Option<Discriminator>,
    },
    /// A string enum. Open enums keep unknown values in `unknown`.
    Enum {
        variants: Vec<Variant>,
        unknown: Option<String>,
    },
    /// A `oneOf` of scalar types, decoded as whichever matches first.
    OneOf { variants: Vec<(String, TypeRef)> },
    /// Another name for a type (a top-level array, map or scalar schema).
    Alias(TypeRef),
}

pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) wire: String,
    pub(crate) doc: Option<String>,
    pub(crate) ty: TypeRef,
    pub(crate) required: bool,
    pub(crate) nullable: bool,
    pub(crate) deprecated: bool,
}

/// A variant of a union: a type and the discriminator values that select it.
pub(crate) struct UnionVariant {
    pub(crate) name: String,
    pub(crate) ty: TypeRef,
    pub(crate) tags: Vec<String>,
}

/// Where a union's discriminator is: a property, or a path of properties
/// (`attributes.objectType`, declared with `x-discriminator`).
pub(crate) struct Discriminator {
    pub(crate) path: Vec<String>,
}

pub(crate) struct Variant {
    pub(crate) name: String,
    pub(crate) wire: String,
}

/// The Rust type of a value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TypeRef {
    String,
    /// `format: password`: kept in `crate::Secret`, redacted from `Debug`.
    Secret,
    /// `format: date-time`: `crate::Timestamp`, lenient.
    Timestamp,
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    /// `{}`: any JSON value.
    Any,
    /// An object without properties: any JSON object.
    Object,
    /// Bytes (a body of a media type that is not JSON or text).
    Bytes,
    Named(String),
    Array(Box<TypeRef>),
    Map(Box<TypeRef>),
}

/// An operation: one method on `Client` and its request builder.
pub(crate) struct Operation {
    pub(crate) id: String,
    pub(crate) method_name: String,
    pub(crate) builder_name: String,
    pub(crate) http_method: &'static str,
    pub(crate) path: String,
    pub(crate) path_parts: Vec<PathPart>,
    pub(crate) params: Vec<Param>,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) deprecated: bool,
    pub(crate) success: Success,
    pub(crate) errors: Vec<ErrorCase>,
    /// Seek paging, from the operation's `x-pagination`.
    pub(crate) paging: Option<Paging>,
    /// The JSON request body, if the operation takes one.
    pub(crate) body: Option<Body>,
}

/// A JSON request body.
pub(crate) struct Body {
    pub(crate) ty: TypeRef,
    pub(crate) required: bool,
    pub(crate) doc: Option<String>,
    pub(crate) encoding: Encoding,
    /// The media type sent as `Content-Type`.
    pub(crate) media: String,
}

/// How a body is written or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// JSON of the body's type.
    Json,
    /// `application/x-www-form-urlencoded` of the body's type.
    Form,
    /// Text (`text/*`): the type is `String`.
    Text,
    /// Bytes of any other media type (or none declared).
    Bytes,
}

/// How to walk the pages of an operation (`x-pagination`): where the items,
/// the next link and the continuation token are in the success body, and how
/// a continuation token is sent.
pub(crate) struct Paging {
    /// The model of the success body.
    pub(crate) collection: String,
    pub(crate) items: FieldRef,
    pub(crate) item_ty: TypeRef,
    /// The fields from the body to the next link object.
    pub(crate) next: Vec<FieldRef>,
    /// `uri` of the link object.
    pub(crate) link_uri: FieldRef,
    /// `headers` of the link object: an array of objects with `key` and `value`.
    pub(crate) link_headers: Option<LinkHeaders>,
    pub(crate) token: Option<FieldRef>,
    /// The header a continuation token is sent in.
    pub(crate) token_header: String,
    /// The query parameter and value that ask for the next page, e.g.
    /// `seekOperation=Next`.
    pub(crate) seek: Option<Seek>,
    /// Prepended to relative next links whose path lacks it, e.g. `/v1`.
    pub(crate) path_prefix: String,
}

pub(crate) struct LinkHeaders {
    pub(crate) field: FieldRef,
    pub(crate) key: FieldRef,
    pub(crate) value: FieldRef,
}

pub(crate) struct Seek {
    /// The builder's setter for the parameter.
    pub(crate) param: String,
    pub(crate) wire: String,
    pub(crate) value: String,
    /// The enum variant for `value` when the parameter is an enum.
    pub(crate) variant: Option<(String, String)>,
}

/// A field of a struct model, as the emitters access it.
#[derive(Clone)]
pub(crate) struct FieldRef {
    pub(crate) name: String,
    pub(crate) ty: TypeRef,
    /// Whether the field is an `Option`.
    pub(crate) optional: bool,
}

pub(crate) enum PathPart {
    Literal(String),
    /// Index into `params`.
    Param(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    /// The JSON request body, which the emitters treat as one more input.
    Body,
}

#[derive(Clone)]
pub(crate) struct Param {
    pub(crate) wire: String,
    pub(crate) name: String,
    pub(crate) location: Location,
    pub(crate) required: bool,
    /// A scalar, a string enum, an array of those (query only, sent as
    /// repeated `name=value` pairs), or any model when `json` is set.
    pub(crate) ty: TypeRef,
    /// `content: application/json`: the value is sent as JSON text.
    pub(crate) json: bool,
    /// An array sent as one comma-separated value (`explode: false`, headers).
    pub(crate) comma: bool,
    pub(crate) deprecated: bool,
    pub(crate) doc: Option<String>,
}

/// The 2xx responses: their statuses and the body they share, if any.
pub(crate) struct Success {
    pub(crate) statuses: Vec<StatusMatch>,
    /// The body and how it is read; `None` when no success response has one.
    pub(crate) body: Option<(TypeRef, Encoding)>,
    /// Some success responses have the body and others none (a 200 and a
    /// 204): the body is optional.
    pub(crate) body_optional: bool,
}

pub(crate) struct ErrorCase {
    pub(crate) status: StatusMatch,
    /// The model of the body, or `None` when the spec declares no JSON body.
    pub(crate) body: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusMatch {
    Code(u16),
    /// `4XX` is `Range(4)`.
    Range(u16),
    Default,
}

/// The names an emitted request builder gives its own methods and fields;
/// a parameter may not take them.
pub(crate) const BUILDER_METHODS: &[&str] = &[
    "send", "stream", "pages", "resume", "client", "request", "new", "body",
];

/// The methods the emitted `Client` has itself (its own and its traits');
/// an operation may not take them. The runtime's `ClientCore` methods, which
/// `Client` dereferences to, are asked from the runtime (`reserved`).
pub(crate) const CLIENT_OWN_METHODS: &[&str] = &[
    "builder",
    "deref",
    "clone",
    "clone_from",
    "fmt",
    "from_core",
    "to_owned",
];

/// The names the emitted `builder` module refers to plainly; a builder may
/// not take them.
pub(crate) const BUILDER_SCOPE_NAMES: &[&str] = &[
    "Client",
    "Error",
    "Items",
    "Pages",
    "Request",
    "ResponseValue",
    "Secret",
    "Timestamp",
    "BTreeMap",
    "Self",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
];
