#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The output and gradient arrays the tensor entry points allocate.
///
/// A large new array (a gradient of 2^24 Floats is 64 MiB) comes from glibc's `mmap`, so
/// its first write takes one page fault per 4 KiB page, and the array goes back to the
/// kernel when freed: every call pays the faults again. Measured on the development
/// machine (KVM guest, loaded, 2^24 Floats written once, best of 9): 185-283 ms per fresh
/// array against 16 ms for writing a reused one. Asking for transparent huge pages on the
/// array before its first write (`madvise(MADV_HUGEPAGE)`: one fault per 2 MiB) cut that
/// to 25-42 ms; in `losscheck bench` the Tensor API's W1 value + gradient went from 86 ms
/// (buffer API 31 ms) to 28 ms (buffer API 20 ms). Linux's default THP mode, "madvise",
/// honours exactly this request; in mode "never", on other kernels or other systems it
/// is a no-op.
enum FreshArrays {
    /// Arrays smaller than this are left alone (a few 2 MiB pages at most would be gained).
    static let hugePageMinimumBytes = 8 << 20
    static let hugePageBytes = 2 << 20

    /// An array of `count` Floats that `fill` initializes completely, or nil (and
    /// `fill(nil)`) when not wanted. Large arrays get the huge-page advice first.
    static func make(count: Int, wanted: Bool, _ fill: (UnsafeMutableBufferPointer<Float>?) -> Void) -> [Float]? {
        guard wanted else {
            fill(nil)
            return nil
        }
        // An empty array without `unsafeUninitializedCapacity`: with capacity 0 it writes
        // the count 0 into the runtime's shared empty-array storage, a data race that
        // ThreadSanitizer reports when empty tensors are evaluated on several threads.
        guard count > 0 else {
            fill(UnsafeMutableBufferPointer(start: nil, count: 0))
            return []
        }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(buffer)
            fill(buffer)
            initialized = count
        }
    }

    /// Advises the kernel to back the 2 MiB-aligned interior of `buffer` with huge pages.
    /// Call it before the first write. It changes no contents and fails silently.
    static func adviseHugePages(_ buffer: UnsafeMutableBufferPointer<Float>) {
        #if os(Linux) && (canImport(Glibc) || canImport(Musl))
        let bytes = buffer.count * MemoryLayout<Float>.stride
        guard let base = buffer.baseAddress, bytes >= hugePageMinimumBytes else { return }
        let start = UInt(bitPattern: base), end = start + UInt(bytes)
        let mask = UInt(hugePageBytes - 1)
        let alignedStart = (start + mask) & ~mask, alignedEnd = end & ~mask
        guard alignedEnd > alignedStart, let pointer = UnsafeMutableRawPointer(bitPattern: alignedStart) else { return }
        _ = madvise(pointer, Int(alignedEnd - alignedStart), MADV_HUGEPAGE)
        #endif
    }
}
