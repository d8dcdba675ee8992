//! The method names an operation may not take, asked from the code that
//! defines them rather than copied into the generator: the public methods
//! of the runtime's `ClientCore` (a generated `Client` dereferences to it,
//! so an operation of the same name would hide it), read from the runtime
//! crate's source, and the methods of the target crate's hand-written
//! `impl Client` blocks (an operation of the same name would not compile).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use syn::visit::Visit;

/// The runtime crate's sources, relative to the workspace root.
pub const RUNTIME_SRC: &str = "crates/pc-api-runtime/src";

/// Reserved method names, each with where it is defined.
#[derive(Clone, Debug, Default)]
pub struct Reserved {
    methods: BTreeMap<String, String>,
}

impl Reserved {
    /// The methods of `ClientCore` in the runtime crate, read once per process.
    pub fn runtime() -> Result<Reserved, String> {
        static RUNTIME: OnceLock<Result<Reserved, String>> = OnceLock::new();
        RUNTIME
            .get_or_init(|| {
                let root = super::workspace_root();
                let sources = read_sources(&root, &root.join(RUNTIME_SRC), &[])?;
                Ok(Reserved::from_impls(&sources, "ClientCore", true))
            })
            .clone()
    }

    /// The methods of the `impl <type_name>` blocks of `sources` (path and
    /// text), all of them or only the `pub` ones.
    pub fn from_impls(sources: &[(String, String)], type_name: &str, only_pub: bool) -> Reserved {
        let mut methods = BTreeMap::new();
        for (path, text) in sources {
            // A hand-written file that does not parse fails its own build;
            // here it only reserves nothing.
            let Ok(file) = syn::parse_file(text) else {
                continue;
            };
            let mut visitor = ImplMethods {
                type_name,
                only_pub,
                found: Vec::new(),
            };
            visitor.visit_file(&file);
            for name in visitor.found {
                methods
                    .entry(name)
                    .or_insert_with(|| format!("`impl {type_name}` in {path}"));
            }
        }
        Reserved { methods }
    }

    /// Both sets of names.
    pub fn merged(mut self, other: Reserved) -> Reserved {
        for (name, place) in other.methods {
            self.methods.entry(name).or_insert(place);
        }
        self
    }

    /// Where `name` is defined, if it is reserved.
    pub fn place_of(&self, name: &str) -> Option<&str> {
        self.methods.get(name).map(String::as_str)
    }
}

/// Every `.rs` file under `dir` (recursively, sorted, skipping the
/// directories named in `skip`), with its path relative to `root`.
pub fn read_sources(
    root: &Path,
    dir: &Path,
    skip: &[&str],
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if !skip.contains(&name.as_str()) {
                out.extend(read_sources(root, &path, skip)?);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, text));
        }
    }
    Ok(out)
}

struct ImplMethods<'a> {
    type_name: &'a str,
    only_pub: bool,
    found: Vec<String>,
}

impl<'ast> Visit<'ast> for ImplMethods<'_> {
    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let names_type = matches!(&*item.self_ty, syn::Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == self.type_name));
        if names_type && item.trait_.is_none() {
            for impl_item in &item.items {
                if let syn::ImplItem::Fn(function) = impl_item
                    && (!self.only_pub || matches!(function.vis, syn::Visibility::Public(_)))
                {
                    self.found.push(function.sig.ident.to_string());
                }
            }
        }
        syn::visit::visit_item_impl(self, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_reserves_its_accessors() {
        let reserved = Reserved::runtime().expect("the runtime's sources");
        for name in ["base_url", "timeout", "retry_policy", "max_pages"] {
            assert!(reserved.place_of(name).is_some(), "{name}");
        }
    }

    #[test]
    fn helpers_are_found_with_their_file() {
        let sources = vec![(
            "src/helpers.rs".to_owned(),
            "impl Client { pub fn delete_user(&self) {} fn private(&self) {} } impl Other { pub fn no(&self) {} } impl std::fmt::Debug for Client { fn fmt(&self) {} }".to_owned(),
        )];
        let all = Reserved::from_impls(&sources, "Client", false);
        assert_eq!(
            all.place_of("delete_user"),
            Some("`impl Client` in src/helpers.rs")
        );
        assert!(all.place_of("private").is_some());
        assert!(all.place_of("no").is_none());
        assert!(
            all.place_of("fmt").is_none(),
            "trait methods are not inherent"
        );
        let public = Reserved::from_impls(&sources, "Client", true);
        assert!(public.place_of("private").is_none());
    }
}
