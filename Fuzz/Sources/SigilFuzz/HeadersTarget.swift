import SigilCore

@testable import SigilCLI
@testable import SigilSigning

/// `headers`: the `-H 'Name: value'` options of `sigil sign` and `sigil call`, split and trimmed by
/// the CLI's own options (RequestOptions) and checked by the engine as every request's headers are.
/// Input: the options' values separated by NUL bytes (a command-line argument cannot hold NUL), at
/// most 16. On headers the engine accepts: names are RFC 9110 tokens, none is one only the HTTP
/// client sets, values hold no control character but HTAB; the credential's Authorization replaces
/// the caller's.
enum HeadersTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let values = input.split(separator: 0, omittingEmptySubsequences: false).prefix(16).map {
            String(decoding: $0, as: UTF8.self)
        }
        // The options as the command line gave them (ArgumentParser's own splitting of argv is not
        // Sigil's, and costs milliseconds per parse): only the -H values change.
        var options = template
        options.H = values
        let request: OutboundRequest
        do {
            request = try options.request()
        } catch {
            return
        }
        do {
            try SigningEngine.checkHeaders(request.headers)
        } catch {
            return
        }
        var decorated = request.headers
        for header in request.headers {
            let name = Array(header.name.utf8)
            let value = Array(header.value.utf8)
            if name.isEmpty || !name.allSatisfy(isTokenByte) {
                FuzzCheck.fail("headers: accepted field name \(header.name.debugDescription)")
            }
            if reserved.contains(header.name.lowercased()) {
                FuzzCheck.fail("headers: accepted reserved field \(header.name.debugDescription)")
            }
            if value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                FuzzCheck.fail("headers: accepted a control character in \(header.value.debugDescription)")
            }
        }
        // The credential's own header replaces the caller's, whatever its case.
        try? SigningEngine.set(&decorated, name: "Authorization", value: "Bearer fuzz", credential: "Api")
        if decorated.filter({ $0.name.lowercased() == "authorization" }).count != 1 {
            FuzzCheck.fail("headers: the request carries the caller's Authorization beside the credential's")
        }
    }

    /// Fields only the HTTP client may set: routing (`Host`) and framing; a caller's would allow
    /// domain fronting or request smuggling.
    static let reserved: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "proxy-authorization", "proxy-connection",
    ]

    /// `sigil sign callout:Api/v1/items`, parsed once.
    static let template: RequestOptions = {
        do { return try RequestOptions.parse(["callout:Api/v1/items"]) } catch {
            FuzzCheck.fail("headers: the base command line does not parse: \(error)")
        }
    }()

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
