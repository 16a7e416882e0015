public import Foundation
public import SigilCore
public import SigilSigning

/// The access keys of an AWS IAM user (IAM API reference: `CreateAccessKey`, `ListAccessKeys`,
/// `UpdateAccessKey`, `DeleteAccessKey`) and STS `GetCallerIdentity`: the provider side of the
/// built-in access-key rotator. Every call is signed by Sigil's own SigV4 signer with the keys given.
public struct IAMAccessKeys: Sendable {
    /// An access key as `ListAccessKeys` describes it (never its secret).
    public struct Key: Sendable, Hashable {
        public var id: String
        /// `Active` or `Inactive`.
        public var status: String
        public var created: Date?
    }

    let client: TokenEndpointClient
    let clock: @Sendable () -> Date
    /// The IAM endpoint (`https://iam.amazonaws.com`); IAM signs in `us-east-1`.
    public let iamEndpoint: String
    public let stsEndpoint: String
    public let stsRegion: String
    /// The IAM user whose keys these are; `nil`: the user the signing keys belong to.
    public let userName: String?

    public init(
        broker: CredentialBroker, iamEndpoint: String, stsEndpoint: String, stsRegion: String, userName: String?
    ) {
        client = broker.client
        clock = broker.clock
        self.iamEndpoint = iamEndpoint
        self.stsEndpoint = stsEndpoint
        self.stsRegion = stsRegion
        self.userName = userName
    }

    private var userParameter: [(name: String, value: String)] {
        userName.map { [("UserName", $0)] } ?? []
    }

    private var userDescription: String {
        userName.map { "IAM user \($0)" } ?? "the keys' own IAM user"
    }

    private func iam(_ action: String, _ parameters: [(name: String, value: String)]) -> AWSQueryCall {
        AWSQueryCall(
            endpoint: iamEndpoint, region: "us-east-1", service: "iam", action: action, version: "2010-05-08",
            parameters: parameters)
    }

    /// A new access key for the user (`CreateAccessKey`). AWS allows two keys per user: when the
    /// user has two already, the error says so and names them.
    public func create(signedWith credentials: SigV4Signer.Credentials) async throws -> (
        id: String, secret: SecretBytes
    ) {
        let purpose = "IAM CreateAccessKey for \(userDescription)"
        let answer = try await iam("CreateAccessKey", userParameter).send(
            with: credentials, client: client, at: clock(), purpose: purpose)
        if answer.errorCode == "LimitExceeded" {
            let existing = (try? await list(signedWith: credentials))?.map { "\($0.id) (\($0.status))" }
            throw SigilError(
                .providerFailed,
                "\(purpose) was refused: AWS allows two access keys per IAM user and it has two\(existing.map { " (\($0.joined(separator: ", ")))" } ?? ""); delete the one Sigil does not hold, then start again"
            )
        }
        guard answer.status == 200 else { throw AWSQueryCall.refusal(answer, purpose: purpose) }
        let key = answer.document.values(in: "AccessKey")
        guard let id = key["AccessKeyId"], let secret = key["SecretAccessKey"] else {
            throw SigilError(.providerFailed, "\(purpose): the response lacks AccessKeyId or SecretAccessKey")
        }
        return (id.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }, secret)
    }

    /// The user's access keys (`ListAccessKeys`).
    public func list(signedWith credentials: SigV4Signer.Credentials) async throws -> [Key] {
        let purpose = "IAM ListAccessKeys for \(userDescription)"
        let answer = try await iam("ListAccessKeys", userParameter).send(
            with: credentials, client: client, at: clock(), purpose: purpose)
        guard answer.status == 200 else { throw AWSQueryCall.refusal(answer, purpose: purpose) }
        return answer.document.members.compactMap { member in
            guard let id = member["AccessKeyId"] else { return nil }
            return Key(
                id: id, status: member["Status"] ?? "",
                created: member["CreateDate"].flatMap {
                    (try? Date($0, strategy: .iso8601))
                        ?? (try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
                })
        }
    }

    /// Makes key `id` inactive, then deletes it (`UpdateAccessKey`, `DeleteAccessKey`). `false`
    /// when the key was already gone (`NoSuchEntity`), so that retiring twice is harmless.
    @discardableResult
    public func retire(_ id: String, signedWith credentials: SigV4Signer.Credentials) async throws -> Bool {
        let key = userParameter + [("AccessKeyId", id)]
        for (action, parameters) in [("UpdateAccessKey", key + [("Status", "Inactive")]), ("DeleteAccessKey", key)] {
            let purpose = "IAM \(action) of access key \(id)"
            let answer = try await iam(action, parameters).send(
                with: credentials, client: client, at: clock(), purpose: purpose)
            if answer.errorCode == "NoSuchEntity" { return false }
            guard answer.status == 200 else { throw AWSQueryCall.refusal(answer, purpose: purpose) }
        }
        return true
    }

    /// The ARN the keys belong to (STS `GetCallerIdentity`): proves that AWS accepts them.
    public func callerIdentity(of credentials: SigV4Signer.Credentials, purpose: String) async throws -> String {
        let call = AWSQueryCall(
            endpoint: stsEndpoint, region: stsRegion, service: "sts", action: "GetCallerIdentity",
            version: "2011-06-15")
        let answer = try await call.send(with: credentials, client: client, at: clock(), purpose: purpose)
        guard answer.status == 200 else { throw AWSQueryCall.refusal(answer, purpose: purpose) }
        guard let arn = answer.document.values(in: "GetCallerIdentityResult")["Arn"] else {
            throw SigilError(.providerFailed, "\(purpose): the response has no Arn")
        }
        return arn.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
