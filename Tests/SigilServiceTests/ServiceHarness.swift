import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SigilConfig
import SigilCore
import SigilModel
import SigilService
import SigilStore
import SigilTestSupport
import Testing

/// A vault with users, roles, passwords and API keys, and the service running on it on a loopback
/// port, reached over real HTTP.
final class ServiceHarness: Sendable {
    /// The test suite's AWS example keys (not secret: they are published with the suite).
    static let awsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let billingKey = "billing-secret-value-1"
    static let password = "correct horse battery staple"

    /// Every user, with their role (`member`: none) and how they authenticate.
    static let configuration = """
        externalCredentials:
          - name: Billing
            protocol: custom
            customHeaders:
              - { name: X-Api-Key, value: "{!$Credential.Billing.apiKey}" }
            principals:
              - { name: billing-org, type: named }
          - name: Example
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: service }
            principals:
              - { name: suite, type: named }
        namedCredentials:
          - { name: Billing, url: "https://api.billing.example/v1", externalCredential: Billing, generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }
          - { name: Example, url: "https://example.amazonaws.com", externalCredential: Example }
        users:
          - { name: alice, groups: [finance] }
          - { name: olga, groups: [ops] }
          - { name: ada }
          - { name: app }
          - { name: actor }
        grants:
          - { principal: Billing/billing-org, to: [group:finance, user:app, user:actor] }
          - { principal: Example/suite, to: [user:alice] }
        roles:
          admin: [user:ada]
          operator: [group:ops]
          app: [user:app, { subject: user:actor, actAs: true }]
        service:
          failures: { firstMilliseconds: 50, maximumMilliseconds: 400, forgetSeconds: 60 }
        """

    let directory: String
    let vault: Vault
    /// Every route of the server, with its access rule.
    let routes: [RouteTable.Entry]
    /// Redirects are answers to check, not to follow (the pages answer 303s).
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    let url: String
    /// API keys by user.
    let apiKeys: [String: String]
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(
        directory: String, vault: Vault, server: SigilServer, url: String, apiKeys: [String: String],
        group: ServiceGroup, running: Task<Void, any Error>
    ) {
        self.directory = directory
        self.vault = vault
        self.routes = server.routes
        self.url = url
        self.apiKeys = apiKeys
        self.group = group
        self.running = running
    }

    /// `rotationInterval`: how often the server runs due rotations (`nil`: never, as by default
    /// here, so that other tests see no change they did not make).
    static func start(
        store: TestStore = .sqlite, clock: @escaping @Sendable () -> Date = { Date() },
        configuration: String = configuration, rotationInterval: Duration? = nil
    ) async throws -> ServiceHarness {
        let directory = NSTemporaryDirectory() + "sigil-service-tests-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let vault = try Vault.create(
            at: try store.newVaultLocation(in: directory), key: .key(MasterKey.generate()), actor: "test")
        let config = try ConfigFile(text: configuration, fileName: "service.yaml")
        try vault.apply(
            try config.resolve { () throws(SigilError) in throw SigilError(.invalidConfiguration, "no stdin") })
        let billing = PrincipalRef(externalCredential: "Billing", principal: "billing-org")
        let suite = PrincipalRef(externalCredential: "Example", principal: "suite")
        try vault.setSecret(
            SecretTarget(owner: .principal(billing), field: "apiKey"), value: SecretBytes(utf8: billingKey))
        try vault.setSecret(
            SecretTarget(owner: .principal(suite), field: "accessKeyId"), value: SecretBytes(utf8: "AKIDEXAMPLE"))
        try vault.setSecret(
            SecretTarget(owner: .principal(suite), field: "secretAccessKey"), value: SecretBytes(utf8: awsSecret))
        for user in ["alice", "olga", "ada"] { try vault.setPassword(of: user, to: SecretBytes(utf8: password)) }
        var apiKeys: [String: String] = [:]
        for user in ["app", "actor", "alice", "olga", "ada"] {
            apiKeys[user] = try vault.createAPIKey(for: user).1.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        var logger = Logger(label: "sigil-test")
        logger.logLevel = .warning
        let server = SigilServer(vault: vault.acting(as: "service"), logger: logger, clock: clock)
        let (urls, ready) = AsyncStream<String>.makeStream()
        var options = try ServiceOptions(listen: "127.0.0.1:0")
        options.rotationInterval = rotationInterval
        options.rotationSpread = 0
        let application = try server.application(options, logger: logger, onReady: { ready.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let running = Task { try await group.run() }
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { throw CancellationError() }
        return ServiceHarness(
            directory: directory, vault: vault, server: server, url: url, apiKeys: apiKeys, group: group,
            running: running)
    }

    /// A test that threw before `stop()` fails alone: the client is shut down here rather than
    /// trapping in its own deinit, which would end every test in the process.
    deinit {
        try? client.syncShutdown()
    }

    /// Stops the service as SIGTERM would (drain, write the use records) and the client.
    func stop(removing: Bool = true) async throws {
        await group.triggerGracefulShutdown()
        try await running.value
        try await client.shutdown()
        if removing { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func with<T>(store: TestStore = .sqlite, _ body: (ServiceHarness) async throws -> T) async throws -> T {
        let harness = try await start(store: store)
        do {
            let result = try await body(harness)
            try await harness.stop()
            return result
        } catch {
            try? await harness.stop()
            throw error
        }
    }

    // MARK: Requests

    /// How a request authenticates.
    enum As {
        case anonymous
        case basic(String, password: String = ServiceHarness.password)
        case key(String)
        case header(String)
    }

    struct Answer {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body)) }
        /// `error.code` of an error answer.
        var errorCode: String? {
            ((try? json()) as? [String: Any]).flatMap { $0["error"] as? [String: Any] }?["code"] as? String
        }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    func send(
        _ method: String, _ path: String, as caller: As = .anonymous, json: Any? = nil, body: [UInt8]? = nil,
        headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url + path)
        request.method = .init(rawValue: method)
        switch caller {
        case .anonymous: break
        case .basic(let user, let password):
            request.headers.add(
                name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        case .key(let user): request.headers.add(name: "Authorization", value: "Bearer " + apiKeys[user]!)
        case .header(let value): request.headers.add(name: "Authorization", value: value)
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        // A bound on a hung test, not a speed target: on a loaded two-core machine the service's
        // handlers can wait behind the other tests' work for tens of seconds.
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Array(buffer: bytes))
    }
}
