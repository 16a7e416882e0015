import SigilCore
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

    /// With `retryingAfterKeyRotation` (commands that send nothing: `sign`, `presign`, `token`), a
    /// `master-key-rotated` failure (another process rotated the master key after this one opened
    /// the vault, and a key was added since) opens the vault again with the key file as it is now
    /// and runs `body` once more.
    static func with<T>(
        _ options: VaultOptions, retryingAfterKeyRotation: Bool = false, _ body: (EngineSession) async throws -> T
    ) async throws -> T {
        let source = try options.keySource()
        do {
            return try await with(try options.open(with: source), body)
        } catch let error as SigilError where error.code == .masterKeyRotated {
            guard retryingAfterKeyRotation, case .keyFile = source else { throw error }
            return try await with(try options.open(with: source), body)
        }
    }

    private static func with<T>(_ vault: Vault, _ body: (EngineSession) async throws -> T) async throws -> T {
        // One request per process: read only what it needs, not the whole catalog.
        let vault = vault.loadingCatalog(.perRequest)
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
