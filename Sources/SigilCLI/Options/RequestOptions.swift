import ArgumentParser
import Foundation
import SigilHTTP
import SigilSigning

/// The curl-like request options `sign` and `call` share: -X, -H, -d, --data-file,
/// --payload-sha256, --as, and the URL last.
struct RequestOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: "The acting user (picks per-user and granted principals).")
    var user: String?

    @Option(name: .short, help: ArgumentHelp("The method (default GET, or POST with a body).", valueName: "method"))
    var X: String?

    @Option(name: .short, help: ArgumentHelp("A header, 'Name: value'; repeatable.", valueName: "header"))
    var H: [String] = []

    @Option(name: .short, help: ArgumentHelp("The body.", valueName: "data"))
    var d: String?

    @Option(
        help: ArgumentHelp(
            "Read the body from a file ('-': standard input); `call` streams it, never holding it whole in memory.",
            valueName: "file"))
    var dataFile: String?

    @Option(
        help: ArgumentHelp(
            "The body's SHA-256 in hex, for SigV4: `call` signs it instead of reading --data-file twice; `sign` signs it for a body sent separately.",
            valueName: "hex"))
    var payloadSha256: String?

    @Argument(help: "callout:NAME/path?query, or an absolute URL.")
    var url: String

    func validate() throws {
        guard d == nil || dataFile == nil else { throw ValidationError("give -d or --data-file, not both") }
        if let payloadSha256 {
            guard payloadSha256.utf8.count == 64, payloadSha256.allSatisfy(\.isHexDigit) else {
                throw ValidationError("--payload-sha256: expected the body's SHA-256 as 64 hex digits")
            }
            guard d == nil else {
                throw ValidationError(
                    "--payload-sha256 is for a body sent separately or streamed (--data-file), not with -d")
            }
        }
    }

    /// The request as given, its body in memory (`sign`): `--data-file` is read whole, and
    /// `--payload-sha256` alone declares a body sent separately.
    func request() throws -> OutboundRequest {
        var body = OutboundRequest.Body.none
        if let d { body = .bytes(Array(d.utf8)) }
        if let dataFile {
            guard payloadSha256 == nil else {
                throw ValidationError("sign: give --data-file or --payload-sha256, not both")
            }
            let data =
                dataFile == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: dataFile)
            guard let data else { throw ValidationError("cannot read --data-file \(dataFile)") }
            body = .bytes(Array(data))
        }
        if let payloadSha256 { body = .sha256(payloadSha256.lowercased()) }
        return try outbound(body: body, hasBody: body != .none)
    }

    /// The request with its body streamed (`call`): `--data-file` is read as it is sent, with
    /// `--payload-sha256`, when given, as its declared hash.
    func streamedRequest() throws -> (OutboundRequest, StreamedBody?) {
        guard let dataFile else {
            guard payloadSha256 == nil else {
                throw ValidationError("--payload-sha256 needs --data-file (the body it is the hash of)")
            }
            return (try outbound(body: d.map { .bytes(Array($0.utf8)) } ?? .none, hasBody: d != nil), nil)
        }
        let stream: StreamedBody
        if dataFile == "-" {
            stream = .once(FileHandle.standardInput)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataFile, isDirectory: &isDirectory), !isDirectory.boolValue,
                let handle = FileHandle(forReadingAtPath: dataFile)
            else {
                throw ValidationError("cannot read --data-file \(dataFile)")
            }
            let regular =
                (try? FileManager.default.attributesOfItem(atPath: dataFile))?[.type] as? FileAttributeType
                == .typeRegular
            if regular {
                try? handle.close()
                stream = .file(path: dataFile)
            } else {
                stream = .once(handle)  // a pipe or device: read once
            }
        }
        return (try outbound(body: payloadSha256.map { .sha256($0.lowercased()) } ?? .none, hasBody: true), stream)
    }

    private func outbound(body: OutboundRequest.Body, hasBody: Bool) throws -> OutboundRequest {
        let method = (X ?? (hasBody ? "POST" : "GET")).uppercased()
        return OutboundRequest(method: method, url: url, headers: try Self.headers(H), body: body)
    }

    /// `-H 'Name: value'` options as headers.
    static func headers(_ options: [String]) throws -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(options.count)
        for (number, header) in options.enumerated() {
            // Not quoted: a header without a colon may be a pasted secret.
            guard let colon = header.firstIndex(of: ":") else {
                throw ValidationError("-H number \(number + 1) of \(options.count): expected 'Name: value'")
            }
            headers.append(
                (
                    String(header[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                ))
        }
        return headers
    }
}
