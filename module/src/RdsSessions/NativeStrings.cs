// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Buffers;
using System.Globalization;
using System.Text;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>
    /// Managed strings into native ones, safely: every string is checked against its
    /// parameter's limit and for unpaired surrogates before anything is marshalled, and it is
    /// encoded on the heap.
    /// </summary>
    /// <remarks>
    /// The generated <c>Utf8String.From</c> encodes on the stack (<c>stackalloc</c>), so a
    /// 10 MB argument overflows the thread's stack and kills the whole process, and it turns
    /// an unpaired surrogate into U+FFFD silently, so a name would reach the service other
    /// than as given. Nothing in the generated bindings is edited; this is the one door every
    /// string goes through instead (a test fails when another caller of <c>Utf8String.From</c>
    /// appears).
    /// </remarks>
    internal static class NativeStrings
    {
        /// <summary>The longest value any parameter may pass: far above every real value (a PEM
        /// certificate with its key is a few KB) and far below what could hurt the process.</summary>
        public const int MaxChars = 65536;

        /// <summary>UTF-8 that throws on an unpaired surrogate instead of replacing it.</summary>
        private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        /// <summary>
        /// The native copy of <paramref name="value"/> (empty for null), or an
        /// <see cref="RdsBrokerException"/> with ErrorId InvalidInput naming
        /// <paramref name="parameter"/> when it is longer than <paramref name="maxChars"/> or
        /// not valid UTF-16. Nothing is allocated natively for a refused value.
        /// </summary>
        public static unsafe Utf8String From(string? value, string parameter, int maxChars = MaxChars)
        {
            value ??= string.Empty;
            Check(value, parameter, maxChars);
            int byteCount = s_strictUtf8.GetByteCount(value);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(byteCount, 1));
            try
            {
                int length = s_strictUtf8.GetBytes(value, 0, value.Length, buffer, 0);
                fixed (byte* bytes = buffer)
                {
                    Utf8String.InteropHelper.interoptopus_string_create((IntPtr)bytes, (ulong)length, out Utf8String.Unmanaged native);
#pragma warning disable CS0618 // IntoManaged is "for generated code": it is the generated way to wrap a native string.
                    return native.IntoManaged();
#pragma warning restore CS0618
                }
            }
            finally
            {
                // The buffer may have held a secret.
                Array.Clear(buffer, 0, byteCount);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>Throws InvalidInput when <paramref name="value"/> cannot cross into native code.</summary>
        public static void Check(string value, string parameter, int maxChars = MaxChars, string errorId = "InvalidInput")
        {
            if (value.Length > maxChars)
            {
                throw RdsBrokerException.InvalidInput(errorId, string.Format(
                    CultureInfo.InvariantCulture,
                    "Invalid {0}: the value is {1} characters long; the limit is {2}",
                    parameter, value.Length, maxChars));
            }

            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    i++;
                }
                else if (char.IsSurrogate(c))
                {
                    throw RdsBrokerException.InvalidInput(errorId, string.Format(
                        CultureInfo.InvariantCulture,
                        "Invalid {0}: the value contains an unpaired surrogate (U+{1:X4}) at character {2}; it is not valid Unicode text",
                        parameter, (int)c, i + 1));
                }
            }
        }
    }
}
