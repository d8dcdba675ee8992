//! pc-fake speaks Entra ID: its token endpoint and the API that accepts its tokens.
