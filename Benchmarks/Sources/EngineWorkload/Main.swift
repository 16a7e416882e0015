import BenchmarkSupport
import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore

/// `engine-workload N [basic|jwt|vault]`: decorates N requests per protocol through the engine, in a
/// steady loop, for profiling and for the steady-loop figures: Basic and JWT HS256 from an in-memory
/// source (`basic` or `jwt` alone), or (`vault`) Basic and a custom header with a merge field through
/// a real sealed vault (SQLite), whose secrets the engine keeps as prepared routes keep them.
@main
struct Main {
    static func main() async throws {
        let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1000
        let only = CommandLine.arguments.dropFirst(2).first
        if only == "vault" { return try await vault(rounds: rounds) }
        let basic = SigningEngine(
            source: MemoryCredentials.single(
                .basic, secrets: ["password": SecretBytes(utf8: "open sesame")],
                principalParameters: ["username": "Aladdin"]))
        let jwt = SigningEngine(
            source: MemoryCredentials.single(
                .jwt, parameters: ["algorithm": "HS256", "iss": "client", "aud": "https://api.example.com"],
                secrets: ["signingKey": SecretBytes.random(count: 32)]))
        if only != "jwt" { try await loop("basic", rounds, basic, "callout:Api/items") }
        if only != "basic" { try await loop("jwt HS256", rounds, jwt, "callout:Api/items") }
    }

    static func loop(_ label: String, _ rounds: Int, _ engine: SigningEngine, _ url: String) async throws {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { _ = try await engine.decorate(OutboundRequest(url: url)) }
        print("\(label) ns/request \((DispatchTime.now().uptimeNanoseconds - start) / UInt64(rounds))")
    }

    static func vault(rounds: Int) async throws {
        let directory = NSTemporaryDirectory() + "sigil-engine-workload-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let vault = try Vault.create(at: directory + "/vault.db", key: .key(MasterKey.generate()), actor: "workload")
        let basic = PrincipalRef(externalCredential: "Basic", principal: "service")
        let custom = PrincipalRef(externalCredential: "Custom", principal: "service")
        try vault.apply(
            ApplyRequest(
                catalog: Catalog(
                    externalCredentials: [
                        ExternalCredential(
                            name: "Basic", authProtocol: .basic, parameters: [:],
                            principals: [
                                Principal(
                                    name: "service", type: .named, sequence: 1, parameters: ["username": "Aladdin"])
                            ]),
                        ExternalCredential(
                            name: "Custom", authProtocol: .custom, parameters: [:],
                            customHeaders: [CustomHeader(name: "X-Api-Key", value: "{!$Credential.Custom.apiKey}")],
                            principals: [Principal(name: "service", type: .named, sequence: 1)]),
                    ],
                    namedCredentials: [
                        NamedCredential(name: "Basic", url: "https://api.example.com/v1", externalCredential: "Basic"),
                        NamedCredential(
                            name: "Custom", url: "https://api.example.com/v1", externalCredential: "Custom",
                            generateAuthorizationHeader: false, allowMergeFieldsInHeader: true),
                    ]
                ),
                secrets: [
                    SecretTarget(owner: .principal(basic), field: "password"): SecretBytes(utf8: "open sesame"),
                    SecretTarget(owner: .principal(custom), field: "apiKey"): SecretBytes(utf8: "sk_live_0123456789"),
                ]
            ))
        let engine = SigningEngine(source: vault)
        try await loop("basic (vault)", rounds, engine, "callout:Basic/items")
        try await loop("custom header (vault)", rounds, engine, "callout:Custom/items")
    }
}
