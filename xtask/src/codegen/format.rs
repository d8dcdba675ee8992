//! Formats emitted tokens with prettyplease and prepends the `@generated` line
//! (comments do not survive a `TokenStream`).

use proc_macro2::TokenStream;

/// Formats one generated file; ends with exactly one newline.
pub(crate) fn format_file(preamble: &str, tokens: TokenStream) -> Result<String, String> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| e.to_string())?;
    let body = prettyplease::unparse(&file);
    let mut out = String::with_capacity(preamble.len() + body.len() + 1);
    out.push_str(preamble);
    out.push_str(body.trim_end());
    out.push('\n');
    Ok(out)
}
