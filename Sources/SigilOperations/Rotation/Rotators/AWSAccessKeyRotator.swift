import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTokens

/// Rotates an AWS IAM user's access key pair (`accessKeyId`, `secretAccessKey`), as the AWS IAM
/// user guide's "Rotating access keys" describes: create a second key, prove it, switch, then make
/// the old key inactive and delete it after the grace period. Every call is signed by Sigil's own
/// SigV4 signer, with the keys that are current at that moment.
///
/// AWS allows two access keys per user, so a rotation needs the previous one retired first. A
/// start cut short after AWS made the key but before the vault stored it leaves a key nobody holds:
/// the next start deletes keys of the user that are not the current one and were created after the
/// interrupted start began (``ProviderRotator/create(_:since:)``), then creates a new one.
struct AWSAccessKeyRotator: ProviderRotator {
    static let fields = RotationPolicy.Rotator.awsIAMAccessKey.fields!

    func rotatedFields(_ step: RotationStep) throws -> [String]? { Self.fields }

    func create(_ step: RotationStep, since: Date) async throws -> [String: SecretBytes]? {
        let current = try credentials(step, stage: .current)
        let keys = try keys(step)
        // Keys made by an interrupted start of this rotation: not the current one, created since it
        // began (AWS stamps CreateDate; `since` is to the second).
        for key in try await keys.list(signedWith: current)
        where key.id != current.accessKeyID && (key.created ?? .distantPast) >= since {
            try await keys.retire(key.id, signedWith: current)
            try step.vault.recordRotationEvent(
                "rotation.orphan-retired", owner: step.owner,
                detail: ["accessKeyId": key.id, "reason": "made by a start that did not finish"])
        }
        let created = try await keys.create(signedWith: current)
        return ["accessKeyId": SecretBytes(utf8: created.id), "secretAccessKey": created.secret]
    }

    func test(_ step: RotationStep) async throws -> String? {
        let keys = try keys(step)
        let expected = try await keys.callerIdentity(
            of: try credentials(step, stage: .current), purpose: "STS GetCallerIdentity with the current keys")
        let pending = try credentials(step, stage: .pending)
        // A new key can take a few seconds to be accepted everywhere in AWS (IAM is eventually
        // consistent): refused keys are tried again, five times at most, two seconds apart.
        var attempt = 0
        while true {
            attempt += 1
            do {
                let arn = try await keys.callerIdentity(
                    of: pending, purpose: "STS GetCallerIdentity with the new key \(pending.accessKeyID)")
                guard arn == expected else {
                    throw SigilError(
                        .providerFailed,
                        "the new key \(pending.accessKeyID) belongs to \(arn), not to \(expected) as the current one does"
                    )
                }
                return "STS GetCallerIdentity accepted the new key \(pending.accessKeyID) as \(arn)"
            } catch let error as SigilError
                where attempt < 5 && error.code == .providerFailed && error.reason.contains("InvalidClientTokenId")
            {
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    func retire(_ step: RotationStep, values: [String: SecretBytes], reason: RetireReason) async throws {
        guard let id = values["accessKeyId"] else { return }
        let keyID = id.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let current = try credentials(step, stage: .current)
        guard keyID != current.accessKeyID else { return }
        let retired = try await keys(step).retire(keyID, signedWith: current)
        try step.vault.recordRotationEvent(
            "rotation.provider-retire", owner: step.owner,
            detail: ["accessKeyId": keyID, "reason": reason.rawValue, "result": retired ? "deleted" : "already gone"])
    }

    private func keys(_ step: RotationStep) throws -> IAMAccessKeys {
        let aws = step.policy.aws ?? .init()
        let region = try aws.stsRegion ?? step.parameter("stsRegion") ?? step.parameter("region") ?? "us-east-1"
        return IAMAccessKeys(
            broker: step.broker, iamEndpoint: aws.iamEndpoint ?? "https://iam.amazonaws.com",
            stsEndpoint: try aws.stsEndpoint ?? step.parameter("stsEndpoint") ?? "https://sts.\(region).amazonaws.com",
            stsRegion: region, userName: aws.userName)
    }

    private func credentials(_ step: RotationStep, stage: SecretStage) throws -> SigV4Signer.Credentials {
        let values = try step.values(stage, of: Self.fields)
        guard let id = values["accessKeyId"], let secret = values["secretAccessKey"] else {
            throw SigilError(
                .rotationState, "\(step.owner) has no \(stage.rawValue) accessKeyId and secretAccessKey")
        }
        if try step.vault.secret(SecretTarget(owner: step.owner, field: "sessionToken")) != nil {
            throw SigilError(
                .rotationState,
                "\(step.owner) holds temporary keys (a sessionToken): only an IAM user's long-term keys rotate")
        }
        return SigV4Signer.Credentials(
            accessKeyID: id.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }, secretAccessKey: secret)
    }
}
