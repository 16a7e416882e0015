import Foundation
import SigilCore
import SigilTokens
import Testing

/// The Authlib authorization server of `Tests/Interop/oauth_server.py`, started for one test and
/// stopped when its standard input closes.
final class OAuthServer {
    struct Info: Decodable {
        var base_url: String
        var token_url: String
        var authorize_url: String
        var device_url: String
        var revoke_url: String
        var resource_url: String
    }

    let peer: InteropPeer<Info>
    var info: Info { peer.info }
    let http = TokenEndpointClient(timeout: .seconds(20))

    /// `config` is the server's CONFIG.json (see oauth_server.py).
    init(directory: String, config: [String: Any]) throws {
        let configPath = directory + "/oauth-config.json"
        let infoPath = directory + "/oauth-info.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        peer = try InteropPeer("oauth_server.py", [configPath, infoPath], infoPath: infoPath)
    }

    func stop() async {
        try? await http.shutdown()
        peer.stop()
    }

    /// `GET /_stats`.
    func stats() async throws -> [String: Any] {
        let response = try await http.send(
            .init(method: "GET", url: info.base_url + "/_stats", headers: [], body: []), purpose: "stats")
        return try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any]
    }

    func count(grant: String) async throws -> Int {
        (try await stats()["by_grant"] as? [String: Any])?[grant] as? Int ?? 0
    }

    func tokenRequests() async throws -> Int {
        try await stats()["token_requests"] as? Int ?? 0
    }

    /// `POST` to an admin endpoint (`/_delay`, `/_invalidate_access_tokens`...).
    func admin(_ path: String, _ form: [(name: String, value: String)] = []) async throws {
        let response = try await http.send(
            .init(
                method: "POST", url: info.base_url + path,
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: PercentEncoding.form(form)),
            purpose: path)
        #expect(response.status == 200, "\(path): HTTP \(response.status)")
    }

    /// Sends a request `sigil sign --json` printed; returns (status, body).
    func send(signedJSON: String) async throws -> (status: Int, body: String) {
        struct Signed: Decodable {
            var method: String
            var url: String
            var headers: [[String]]
            var body_base64: String?
        }
        let signed = try JSONDecoder().decode(Signed.self, from: Data(signedJSON.utf8))
        let response = try await http.send(
            .init(
                method: signed.method, url: signed.url, headers: signed.headers.map { ($0[0], $0[1]) },
                body: signed.body_base64.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
            ), purpose: "the resource")
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }
}

/// Runs openssl; returns its standard output.
@discardableResult
func openssl(_ arguments: [String]) throws -> String {
    let result = try shell(["openssl"] + arguments)
    #expect(result.status == 0, "openssl \(arguments.joined(separator: " "))")
    return result.stdout
}

/// Runs a command (no shell unless asked) and returns its status and standard output.
func shell(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
