import SigilSigning
import SigilStore
import SigilTokens

/// The vault, the signing engine over it and the broker that obtains issued credentials (STS,
/// OAuth 2.0) for it: what `sign` and `presign` work with. The broker's connections are closed when
/// the body returns or throws.
struct EngineSession {
    let vault: Vault
    let engine: SigningEngine
    let broker: CredentialBroker

    static func with<T>(_ options: VaultOptions, _ body: (EngineSession) async throws -> T) async throws -> T {
        let vault = try options.open()
        let broker = CredentialBroker(vault: vault)
        let session = EngineSession(vault: vault, engine: SigningEngine(source: vault, issuer: broker), broker: broker)
        let result: T
        do {
            result = try await body(session)
        } catch {
            try? await broker.shutdown()
            throw error
        }
        try await broker.shutdown()
        return result
    }
}
