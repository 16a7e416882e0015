import Foundation
import SigilCore
import SigilModel
import SigilSigning
import SigilStore
import SigilTestSupport
import Synchronization
import Testing

/// A request is signed with one version of the catalog and its secrets, while another handle (as
/// another process would) applies changes that move several of them together.
@Suite("Signing reads one consistent version of the vault")
struct ConsistentReadTests {
    /// A Basic credential whose username is a parameter (catalog) and whose password is a secret:
    /// version `tag` sets both, and a custom header's key, at once.
    static func request(_ tag: String) -> ApplyRequest {
        let principal = PrincipalRef(externalCredential: "Api", principal: "svc")
        return ApplyRequest(
            catalog: Catalog(
                externalCredentials: [
                    ExternalCredential(
                        name: "Api", authProtocol: .basic,
                        customHeaders: [CustomHeader(name: "X-Key", value: "{!$Credential.Api.apiKey}")],
                        principals: [
                            Principal(name: "svc", type: .named, sequence: 1, parameters: ["username": "user\(tag)"])
                        ]
                    )
                ],
                namedCredentials: [
                    NamedCredential(
                        name: "Api", url: "http://127.0.0.1:9/v1", externalCredential: "Api",
                        allowMergeFieldsInHeader: true)
                ]
            ),
            secrets: [
                SecretTarget(owner: .principal(principal), field: "password"): SecretBytes(utf8: "pass\(tag)"),
                SecretTarget(owner: .principal(principal), field: "apiKey"): SecretBytes(utf8: "key\(tag)"),
            ]
        )
    }

    @Test("no signed request mixes two applies, while another handle applies", arguments: TestStore.all)
    func noTornReads(store: TestStore) async throws {
        let directory = NSTemporaryDirectory() + "sigil-consistency-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = MasterKey.generate()
        let location = try store.newVaultLocation(in: directory)
        let writer = try Vault.create(at: location, key: .key(key), actor: "writer")
        try writer.apply(Self.request("A"))
        let reader = try Vault.open(at: location, key: .key(key), actor: "reader")
        let engine = SigningEngine(source: reader)
        let done = Atomic(false)
        let applies = Atomic(0)

        // Another handle applies A, B, A... until the signing below is done (at most 3,000 times).
        let writing = Thread {
            for round in 0..<3000 where !done.load(ordering: .acquiring) {
                _ = try? writer.apply(Self.request(round % 2 == 0 ? "B" : "A"))
                applies.add(1, ordering: .relaxed)
                usleep(5_000)
            }
        }
        writing.start()
        var torn: [String] = []
        // At least 150 requests, and on until the other handle has applied a few times (signing
        // with kept secrets takes microseconds), at most 200,000.
        var signed = 0
        while signed < 150 || (applies.load(ordering: .relaxed) <= 8 && signed < 200_000) {
            signed += 1
            let decorated = try await engine.decorate(OutboundRequest(url: "callout:Api/x"))
            let authorization = decorated.headers.first { $0.name == "Authorization" }!.value
            let pair = String(decoding: Data(base64Encoded: String(authorization.dropFirst(6)))!, as: UTF8.self)
            let apiKey = decorated.headers.first { $0.name == "X-Key" }!.value
            let tag = String(pair.prefix(5).dropFirst(4))
            if pair != "user\(tag):pass\(tag)" || apiKey != "key\(tag)" { torn.append("\(pair) \(apiKey)") }
        }
        done.store(true, ordering: .releasing)
        #expect(torn.isEmpty, "torn: \(torn.prefix(5))")
        #expect(applies.load(ordering: .relaxed) > 5, "the applies ran while requests were signed")
    }
}
