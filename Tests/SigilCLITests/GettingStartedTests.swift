// This test mirrors Sources/SigilHTTP/SigilHTTP.docc/GettingStarted.md and must be kept in step with
// it: its middle part is the article's code listing, call for call, with the test vault's paths in
// place of /var/lib/billing/vault.db and /etc/billing/master.key. Change one, change the other.
import Foundation
import SigilCore
import SigilHTTP
import SigilSigning
import SigilStore
import SigilTokens
import Testing

@Suite("The getting-started article's code")
struct GettingStartedTests {
    @Test("the article's code opens a vault, decorates a request and sends it with its Basic credential")
    func articleListing() async throws {
        // Set-up, not in the article: a vault made with the CLI, and a local server that logs the
        // headers of every request (Tests/Interop/transfer_server.py) as the Billing endpoint.
        let cli = CLI()
        let server = try InteropPeer<TransferServer.Info>(
            "transfer_server.py", [cli.home + "/transfer.json"], infoPath: cli.home + "/transfer.json")
        defer { server.stop() }
        let config = cli.home + "/billing.yaml"
        try """
        externalCredentials:
          - name: Billing
            protocol: basic
            principals:
              - { name: billing-org, parameters: { username: user }, secrets: { password: env:BILLING_PASSWORD } }
        namedCredentials:
          - { name: Billing, url: "\(server.info.base_url)/", externalCredential: Billing }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config], environment: ["BILLING_PASSWORD": "password"])

        // The article's listing.

        // 1. Open the vault with its master key.
        let vault = try Vault.open(
            at: cli.vaultPath,
            key: .keyFile(path: cli.keyPath),
            actor: "app:billing"
        )

        // 2. The engine over the vault, the broker as its issuer, the executor over the engine.
        let broker = CredentialBroker(vault: vault)
        let engine = SigningEngine(source: vault, issuer: broker)
        let executor = Executor(engine: engine)

        // 3. The request names the credential, not its secret.
        let request = OutboundRequest(
            method: "GET",
            url: "callout:Billing/v1/invoices",
            headers: [(name: "Accept", value: "application/json")],
            body: .none
        )

        let response: Executor.Response
        do {
            // What would be sent; header values are secrets, so print only the names.
            let decorated = try await engine.decorate(request)
            print(decorated.method, decorated.url, decorated.headers.map { $0.name })

            // 4. Send it: the executor decorates it again, sends it and reads the answer.
            response = try await executor.send(request)
        } catch {
            try? await executor.shutdown()
            try? await broker.shutdown()
            throw error
        }
        // 5. Close the connections of the executor and the broker.
        try await executor.shutdown()
        try await broker.shutdown()

        print("HTTP", response.status)
        print(String(decoding: response.body, as: UTF8.self))

        // The end of the listing. The answer is the server's echo of the request it received.
        #expect(response.status == 200)
        #expect(!response.retried)
        let echo = try JSONDecoder().decode(TransferServer.Entry.self, from: Data(response.body))
        #expect(echo.method == "GET")
        #expect(echo.path == "/v1/invoices")

        // What the server saw: the Basic credential of the vault's principal, and the caller's header.
        let log = try JSONDecoder().decode(
            [TransferServer.Entry].self, from: Data(cli.ok(["call", "callout:Billing/_log"]).stdout.utf8))
        let received = try #require(log.first { $0.path == "/v1/invoices" })
        let expected = "Basic " + Data("user:password".utf8).base64EncodedString()
        #expect(expected == "Basic dXNlcjpwYXNzd29yZA==")
        #expect(received.header("Authorization") == expected)
        #expect(received.header("Accept") == "application/json")
        #expect(log.filter { $0.path == "/v1/invoices" }.count == 1, "sent once")
    }
}
