public import Foundation
public import SigilModel
public import SigilSigning

/// One way of obtaining an issued credential from a provider (STS AssumeRole, an OAuth 2.0 grant).
/// The ``CredentialBroker`` decides when to call it; a provider only makes the call.
public protocol CredentialProvider: Sendable {
    /// A digest of the non-secret parameters the value depends on (role, scope, endpoint...): a
    /// stored value obtained under other parameters is not used.
    func parametersDigest(_ request: IssuanceRequest) throws -> String
    /// How many seconds before its expiry a value is replaced.
    func refreshMargin(_ request: IssuanceRequest) throws -> Int64
    /// Asks the provider for a new value, as of `now`. `previous` is the stored value, expired or
    /// not, when there is one (it may hold a refresh token). Throwing a `SigilError` with code
    /// `reauthorizationRequired` discards the stored value: a person must authorize again.
    func obtain(_ request: IssuanceRequest, previous: IssuedCredential?, now: Date) async throws -> IssuedCredential
}
