import Foundation
public import SigilCore
public import SigilModel
import Yams

/// Writes a catalog in the configuration format, without secrets. Applying the output to the
/// same vault changes nothing: every field is written explicitly, and secrets the file does not
/// mention keep their values.
public enum ConfigExport {
    public static func text(of catalog: Catalog, json: Bool) throws(SigilError) -> String {
        let document = Document(catalog)
        do {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
            }
            return try YAMLEncoder().encode(document)
        } catch {
            throw SigilError(.invalidConfiguration, "cannot write the export: \(error)")
        }
    }

    private struct Document: Encodable {
        var externalCredentials: [ExternalCredentialEntry]?
        var namedCredentials: [NamedCredentialEntry]?
        var users: [UserEntry]?
        var groups: [String]?
        var grants: [GrantEntry]?
        var roles: [String: [RoleEntry]]?
        var service: ServiceSettings?

        init(_ catalog: Catalog) {
            externalCredentials = nonEmpty(catalog.externalCredentials.map(ExternalCredentialEntry.init))
            namedCredentials = nonEmpty(catalog.namedCredentials.map(NamedCredentialEntry.init))
            users = nonEmpty(catalog.users.map { UserEntry(name: $0.name, groups: nonEmpty($0.groups)) })
            // Groups that users declare need no line of their own.
            let declared = Set(catalog.users.flatMap(\.groups))
            groups = nonEmpty(catalog.groups.filter { !declared.contains($0) })
            grants = nonEmpty(
                catalog.grants.filter { !$0.subjects.isEmpty }.map {
                    GrantEntry(principal: $0.principal.description, to: $0.subjects.map(\.description))
                })
            roles = catalog.roles.map { grants in
                Dictionary(grouping: grants, by: \.role.rawValue).mapValues { $0.map(RoleEntry.init) }
            }
            service = catalog.service
        }
    }

    /// `user:NAME`, or `{subject: user:NAME, actAs: true}` for an app that acts as others.
    private struct RoleEntry: Encodable {
        var grant: RoleGrant

        init(_ grant: RoleGrant) { self.grant = grant }

        func encode(to encoder: any Encoder) throws {
            guard grant.actAs else {
                var container = encoder.singleValueContainer()
                try container.encode(grant.subject.description)
                return
            }
            struct Acting: Encodable {
                var subject: String
                var actAs: Bool
            }
            try Acting(subject: grant.subject.description, actAs: true).encode(to: encoder)
        }
    }

    private struct Header: Encodable {
        var name: String
        var value: String
    }

    private struct PrincipalEntry: Encodable {
        var name: String
        var type: String
        var sequence: Int
        var parameters: SortedMap?
        var rotation: RotationEntry?
    }

    /// A rotation policy as the file writes it: durations as `90d`.
    private struct RotationEntry: Encodable {
        struct Test: Encodable {
            var url: String
            var method: String
            var expect: [Int]
        }
        var rotator: String
        var every: String
        var grace: String
        var field: String?
        var length: Int?
        var alphabet: String?
        var testRequest: Test?
        var aws: RotationPolicy.AWSSettings?
        var clientSecrets: RotationPolicy.ClientSecretAdmin?
        var command: Command?

        struct Command: Encodable {
            var path: String
            var arguments: [String]?
            var timeout: String
        }

        init?(_ policy: RotationPolicy?) {
            guard let policy else { return nil }
            rotator = policy.rotator.rawValue
            every = RotationPolicy.duration(policy.every)
            grace = RotationPolicy.duration(policy.grace)
            field = policy.field
            length = policy.length
            alphabet = policy.alphabet
            testRequest = policy.testRequest.map { Test(url: $0.url, method: $0.method, expect: $0.expect) }
            aws = policy.aws
            clientSecrets = policy.clientSecrets
            command = policy.command.map {
                Command(
                    path: $0.path, arguments: $0.arguments.isEmpty ? nil : $0.arguments,
                    timeout: RotationPolicy.duration($0.timeout))
            }
        }
    }

    private struct ExternalCredentialEntry: Encodable {
        var name: String
        var `protocol`: String
        var parameters: SortedMap?
        var customHeaders: [Header]?
        var principals: [PrincipalEntry]?
        var rotation: RotationEntry?

        init(_ credential: ExternalCredential) {
            name = credential.name
            `protocol` = credential.authProtocol.rawValue
            parameters = SortedMap(credential.parameters)
            customHeaders = nonEmpty(credential.customHeaders.map { Header(name: $0.name, value: $0.value) })
            principals = nonEmpty(
                credential.principals.map {
                    PrincipalEntry(
                        name: $0.name, type: $0.type.rawValue, sequence: $0.sequence,
                        parameters: SortedMap($0.parameters), rotation: RotationEntry($0.rotation))
                })
            rotation = RotationEntry(credential.rotation)
        }
    }

    private struct ClientIdentity: Encodable {
        var certificate: String
    }

    private struct NamedCredentialEntry: Encodable {
        var name: String
        var url: String
        var externalCredential: String
        var generateAuthorizationHeader: Bool
        var allowMergeFieldsInHeader: Bool
        var allowMergeFieldsInBody: Bool
        var customHeaders: [Header]?
        var clientIdentity: ClientIdentity?
        var trust: TrustEntry?

        struct TrustEntry: Encodable {
            var caBundle: String?
            var pins: [String]?
        }

        init(_ credential: NamedCredential) {
            name = credential.name
            url = credential.url
            externalCredential = credential.externalCredential
            generateAuthorizationHeader = credential.generateAuthorizationHeader
            allowMergeFieldsInHeader = credential.allowMergeFieldsInHeader
            allowMergeFieldsInBody = credential.allowMergeFieldsInBody
            customHeaders = nonEmpty(credential.customHeaders.map { Header(name: $0.name, value: $0.value) })
            clientIdentity = credential.clientCertificate.map(ClientIdentity.init)
            trust = credential.trust.map { TrustEntry(caBundle: $0.caBundle, pins: $0.pins.isEmpty ? nil : $0.pins) }
        }
    }

    private struct UserEntry: Encodable {
        var name: String
        var groups: [String]?
    }

    private struct GrantEntry: Encodable {
        var principal: String
        var to: [String]
    }
}

/// A string map encoded with its keys in order, so exports are the same from run to run.
private struct SortedMap: Encodable {
    let pairs: [(key: String, value: String)]

    init?(_ map: [String: String]) {
        guard !map.isEmpty else { return nil }
        pairs = map.sorted { $0.key < $1.key }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in pairs { try container.encode(value, forKey: Key(stringValue: key)) }
    }
}

private func nonEmpty<C: Collection>(_ collection: C) -> C? {
    collection.isEmpty ? nil : collection
}
