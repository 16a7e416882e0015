public import SigilCore
public import SigilModel

extension MergeTemplate {
    /// The most bytes one merge field's value (or any value inside it) may have.
    public static let maximumValueBytes = 1 << 20
    /// The most bytes evaluating one template may produce, all values inside it counted: `HEX`
    /// doubles its argument, so nesting could otherwise grow a value exponentially.
    public static let maximumEvaluatedBytes = 8 << 20

    /// Evaluates the template; `resolve` supplies each reference's value. Fails when a value
    /// would pass ``maximumValueBytes`` or the evaluation ``maximumEvaluatedBytes``.
    public func render(_ resolve: (MergeReference) throws -> SecretBytes) throws -> SecretBytes {
        // The common shapes, `{!$Credential.Api.apiKey}` and text around one reference: no function
        // to apply, so the value is the reference's bytes (shared, not copied) or one copy of text
        // and value side by side.
        if parts.count == 1, case .expression(.reference(let reference, let position)) = parts[0] {
            let value = try resolve(reference)
            guard value.count <= Self.maximumValueBytes else { throw Self.tooLarge(position) }
            return value
        }
        if parts.count <= 3, let plain = try renderTextAndOneReference(resolve) { return plain }
        var output: [UInt8] = []
        defer { output.wipe() }
        var budget = Self.maximumEvaluatedBytes
        for part in parts {
            switch part {
            case .text(let bytes): output += bytes
            case .expression(let expression): output += try evaluate(expression, resolve, budget: &budget, position: 1)
            }
        }
        // Lives for one request (it becomes a header value): wiped, not locked.
        return SecretBytes(copying: output, lockingMemory: false)
    }

    private func evaluate(
        _ expression: Expression, _ resolve: (MergeReference) throws -> SecretBytes, budget: inout Int, position: Int
    ) throws -> [UInt8] {
        let value: [UInt8]
        var at = position
        switch expression {
        case .string(let bytes):
            value = bytes
        case .reference(let reference, let where_):
            at = where_
            value = try resolve(reference).withUnsafeBytes { Array($0) }
        case .concatenation(let terms):
            var joined: [UInt8] = []
            for term in terms {
                joined += try evaluate(term, resolve, budget: &budget, position: position)
                if joined.count > Self.maximumValueBytes { break }
            }
            value = joined
        case .call(let function, let arguments, let where_):
            at = where_
            var values: [[UInt8]] = []
            for argument in arguments {
                values.append(try evaluate(argument, resolve, budget: &budget, position: where_))
            }
            // Checked before the call: HEX of 1 MiB would make 2 MiB.
            guard function.outputBound(values) <= Self.maximumValueBytes else { throw Self.tooLarge(at) }
            value = try function.apply(values, position: where_)
        }
        guard value.count <= Self.maximumValueBytes else { throw Self.tooLarge(at) }
        budget -= value.count
        guard budget >= 0 else {
            throw MergeFieldError(
                position: at,
                "evaluating the merge fields would produce more than \(Self.maximumEvaluatedBytes >> 20) MiB")
        }
        return value
    }

    /// Text, one reference and text (either text may be missing), rendered into one buffer; `nil`
    /// for any other shape.
    private func renderTextAndOneReference(_ resolve: (MergeReference) throws -> SecretBytes) throws -> SecretBytes? {
        var before: [UInt8] = []
        var after: [UInt8] = []
        var field: (reference: MergeReference, position: Int)?
        for part in parts {
            switch part {
            case .text(let bytes) where field == nil && before.isEmpty: before = bytes
            case .text(let bytes) where field != nil && after.isEmpty: after = bytes
            case .expression(.reference(let reference, let position)) where field == nil: field = (reference, position)
            default: return nil
            }
        }
        guard let field else { return nil }
        let value = try resolve(field.reference)
        guard value.count <= Self.maximumValueBytes else { throw Self.tooLarge(field.position) }
        return SecretBytes(count: before.count + value.count + after.count, lockingMemory: false) { output in
            var offset = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: output[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
                offset += bytes.count
            }
            before.withUnsafeBytes(put)
            value.withUnsafeBytes(put)
            after.withUnsafeBytes(put)
        }
    }

    private static func tooLarge(_ position: Int) -> MergeFieldError {
        MergeFieldError(position: position, "the value would be larger than \(maximumValueBytes >> 20) MiB")
    }
}
