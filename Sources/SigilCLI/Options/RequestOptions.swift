import ArgumentParser
import Foundation
import SigilSigning

/// The curl-like request options `sign` and `call` share: -X, -H, -d, --data-file, --as, and the
/// URL last.
struct RequestOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: "The acting user (picks per-user and granted principals).")
    var user: String?

    @Option(name: .short, help: ArgumentHelp("The method (default GET, or POST with a body).", valueName: "method"))
    var X: String?

    @Option(name: .short, help: ArgumentHelp("A header, 'Name: value'; repeatable.", valueName: "header"))
    var H: [String] = []

    @Option(name: .short, help: ArgumentHelp("The body.", valueName: "data"))
    var d: String?

    @Option(help: ArgumentHelp("Read the body from a file.", valueName: "file"))
    var dataFile: String?

    @Argument(help: "callout:NAME/path?query, or an absolute URL.")
    var url: String

    func validate() throws {
        guard d == nil || dataFile == nil else { throw ValidationError("give -d or --data-file, not both") }
    }

    /// The request as given.
    func request() throws -> OutboundRequest {
        var headers: [(name: String, value: String)] = []
        for header in H {
            guard let colon = header.firstIndex(of: ":") else { throw ValidationError("-H \(header): expected 'Name: value'") }
            headers.append((String(header[..<colon]).trimmingCharacters(in: .whitespaces), String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        var body = OutboundRequest.Body.none
        if let d { body = .bytes(Array(d.utf8)) }
        if let dataFile {
            guard let data = FileManager.default.contents(atPath: dataFile) else { throw ValidationError("cannot read --data-file \(dataFile)") }
            body = .bytes(Array(data))
        }
        let method = (X ?? (body == .none ? "GET" : "POST")).uppercased()
        return OutboundRequest(method: method, url: url, headers: headers, body: body)
    }
}
