import Foundation
import SigilCore
import SigilModel
import SigilStore
import SigilTokens

/// The provider's side of a rotation, in the steps of AWS Secrets Manager's rotation functions:
/// create the new value (or leave that to the operator or Sigil), set it at the provider, test it,
/// finish, and retire the old one. Every call may come twice (a step resumed after a crash), so each
/// must be idempotent. ``Rotation`` calls these around its own steps in the vault.
protocol ProviderRotator: Sendable {
    /// The fields a provider-made rotation changes (`nil`: the one rotated field).
    func rotatedFields(_ step: RotationStep) throws -> [String]?
    /// New values made at the provider; `nil` when the value is supplied or made by Sigil.
    /// `since`: when this rotation was begun, to find what an earlier, interrupted call made.
    func create(_ step: RotationStep, since: Date) async throws -> [String: SecretBytes]?
    /// Tells the provider the pending values (they are stored before).
    func set(_ step: RotationStep) async throws
    /// Proves the pending values at the provider; what was proved, `nil` when it has no test.
    func test(_ step: RotationStep) async throws -> String?
    /// Called before the pending values become current.
    func finish(_ step: RotationStep) async throws
    /// Retires values no longer used: the previous ones at clean-up, or the new ones a rollback
    /// abandoned. Called with the values still usable for signing the provider's calls (`current`).
    func retire(_ step: RotationStep, values: [String: SecretBytes], reason: RetireReason) async throws
}

enum RetireReason: String, Sendable {
    case cleanUp = "clean-up"
    case rollBack = "rollback"
}

extension ProviderRotator {
    func rotatedFields(_ step: RotationStep) throws -> [String]? { nil }
    func create(_ step: RotationStep, since: Date) async throws -> [String: SecretBytes]? { nil }
    func set(_ step: RotationStep) async throws {}
    func test(_ step: RotationStep) async throws -> String? { nil }
    func finish(_ step: RotationStep) async throws {}
    func retire(_ step: RotationStep, values: [String: SecretBytes], reason: RetireReason) async throws {}
}

/// What a provider rotator is given at each step.
struct RotationStep: Sendable {
    let owner: SecretOwner
    let reference: PrincipalRef
    /// The fields rotated (empty at create, before they are known).
    let fields: [String]
    let policy: RotationPolicy
    let vault: Vault
    let broker: CredentialBroker

    /// The rotated fields' values at `stage` (those that have one).
    func values(_ stage: SecretStage, of fields: [String]? = nil) throws -> [String: SecretBytes] {
        var values: [String: SecretBytes] = [:]
        for field in fields ?? self.fields {
            values[field] = try vault.secret(SecretTarget(owner: owner, field: field), stage: stage)
        }
        return values
    }

    /// The external credential's parameter `name` (principal's first).
    func parameter(_ name: String) throws -> String? {
        let external = try vault.catalog().externalCredential(named: reference.externalCredential)
        let principal = external?.principals.first { $0.name == reference.principal }
        return principal?.parameters[name] ?? external?.parameters[name]
    }
}

extension RotationPolicy.Rotator {
    /// The provider side of this rotator, if it has one.
    var provider: (any ProviderRotator)? {
        switch self {
        case .manual, .generated: nil
        case .awsIAMAccessKey: AWSAccessKeyRotator()
        case .oauthClientSecret: OAuthClientSecretRotator()
        case .command: CommandRotator()
        }
    }
}
