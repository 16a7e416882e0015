import SigilModel

/// Custom headers only (Salesforce's "Custom" authentication protocol): the scheme generates no
/// `Authorization` header; the credential's custom headers carry its secrets through merge fields
/// such as `{!$Credential.Billing.apiKey}` (see `MergeFields/`). No parameters of its own.
struct CustomScheme: AuthorizationScheme {
    static let authProtocol = AuthProtocol.custom
    static let secretsGoToResource = true

    init(_ parameters: SchemeParameters) throws(SettingIssue) {}

    /// The fields the custom headers' merge fields name (an API key, say).
    func userSecretFields(mergeFields: [String]) -> [String]? { mergeFields }
}

/// No authentication: requests go out with the caller's and the credentials' custom headers only
/// (an endpoint authenticated by mTLS alone, say).
struct NoneScheme: AuthorizationScheme {
    static let authProtocol = AuthProtocol.none
    static let secretsGoToResource = true

    init(_ parameters: SchemeParameters) throws(SettingIssue) {}
}
