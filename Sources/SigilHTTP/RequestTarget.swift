import Foundation
import SigilCore
import SigilModel
import SigilSigning

/// The request-target (RFC 9112 section 3.2) that async-http-client writes for a URL, checked
/// against the URL the engine resolved and signed before anything is sent.
///
/// async-http-client parses the URL with Foundation and sends `URLComponents.percentEncodedPath`
/// (or `/` when Foundation's decoded path is empty) and `URL.query`. Foundation decodes and
/// re-encodes on the way: a path whose escapes are not UTF-8 (`/v1/%ff`) became `/`, carrying the
/// credential to the root of the host. The engine refuses such paths; this check makes sure no
/// other difference slips through: what was checked is what is sent, or nothing is.
enum RequestTarget {
    /// Throws when `url` would not go on the wire as its own path and query.
    static func check(_ url: String, for target: String) throws(SigilError) {
        guard let parsed = URL(string: url), let components = URLComponents(url: parsed, resolvingAgainstBaseURL: true)
        else {
            throw SigilError(.calloutRefused, "\(target): the URL \(url.urlForMessage) cannot be parsed; not sent")
        }
        var sent = parsed.path.isEmpty ? "/" : components.percentEncodedPath
        if let query = parsed.query { sent += "?" + query }
        let expected = pathAndQuery(of: url)
        guard sent == expected else {
            throw SigilError(
                .calloutRefused,
                "\(target): the HTTP client would send path \(sent.sanitizedForMessage) for \(expected.sanitizedForMessage); not sent"
            )
        }
    }

    /// What follows `scheme://authority` in `url` (`/` when nothing does).
    static func pathAndQuery(of url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        guard let start = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let target = String(rest[start...])
        return target.hasPrefix("?") ? "/" + target : target
    }
}
