// libFuzzer target for the golden file reader: `GoldenFile.parse(bytes, fileName:)` on
// arbitrary bytes and on mutations of valid files (the seed corpus holds small valid
// files). Built and run by scripts/fuzz (swiftc -sanitize=fuzzer,address), not by SwiftPM.
//
// What must hold (a violation aborts with the input's description):
// 1. Nothing traps or touches memory it should not (libFuzzer + AddressSanitizer).
// 2. Every rejection is a GoldenError whose message names the file and says something.
// 3. A file that parses writes back (`validatedSerialization`, which reads its own text
//    back and compares) without error: the reader accepts nothing the writer cannot
//    reproduce.
// 4. Each accepted case runs through the reference engine without trapping (its
//    outcome, a result or a LossError, is whatever the case says; the golden suite
//    checks the values).
import LossVerification
import Losses
import ReferenceLosses

#if canImport(Glibc)
import Glibc
#endif

func fail(_ what: String, _ bytes: [UInt8]) -> Never {
    let text = String(decoding: bytes.prefix(2000), as: UTF8.self)
    fputs("GOLDEN FUZZ FAILURE: \(what)\ninput (\(bytes.count) bytes): \(text)\n", stderr)
    abort()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func goldenFuzzTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let file: GoldenFile
    do throws(GoldenError) {
        file = try GoldenFile.parse(bytes, fileName: "fuzz.json")
    } catch {
        let message = error.description
        if !message.contains("fuzz.json") { fail("a rejection that does not name the file: \(message)", bytes) }
        if message.count < 16 { fail("a rejection without a reason: \(message)", bytes) }
        return 0
    }
    do throws(GoldenError) {
        _ = try file.validatedSerialization(fileName: "fuzz-rewritten.json")
    } catch {
        fail("an accepted file does not write back: \(error)", bytes)
    }
    for c in file.cases where c.arguments.input.count <= 4096 {
        _ = try? Reference.evaluate(c.loss, c.arguments, gradients: .all)
    }
    return 0
}
