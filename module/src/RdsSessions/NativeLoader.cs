// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>
    /// Finds and loads the Rust library from <c>runtimes/&lt;os&gt;-&lt;arch&gt;/native/</c> beside this
    /// assembly and points the generated <c>[LibraryImport]</c>s at it.
    /// </summary>
    /// <remarks>
    /// Neither .NET's default probing nor PowerShell's fallback resolver look under a module's
    /// own runtimes/ tree, so the module registers a per-assembly resolver. It runs on import,
    /// so a missing or mismatched library fails Import-Module with a clear message instead of
    /// failing the first cmdlet call with a TypeInitializationException.
    /// </remarks>
    public static class NativeLoader
    {
        /// <summary>Environment variable naming the native library file to load instead.</summary>
        public const string OverrideVariable = "RDSSESSIONS_NATIVE_PATH";

        private static readonly object s_lock = new();
        private static IntPtr s_handle;
        private static int s_resolverRegistered;
        private static bool s_verified;
        private static string? s_permanentFailure;

        /// <summary>The path the library was loaded from (null until loaded).</summary>
        public static string? LoadedPath { get; private set; }

        /// <summary>
        /// Loads the library and verifies it, on every import: a library that failed the check
        /// is unloaded again, so the next import repeats the whole check (and may find a fixed
        /// one) instead of running cmdlets on a library of another version.
        /// </summary>
        public static void EnsureLoaded()
        {
            lock (s_lock)
            {
                if (s_verified)
                {
                    return;
                }

                if (s_permanentFailure is not null)
                {
                    // The generated bindings refused this library once; .NET does not run a
                    // failed type initializer again, so only a new process can load another.
                    throw new InvalidOperationException(s_permanentFailure + " Start a new PowerShell process to load another library.");
                }

                Load();
                try
                {
                    Verify();
                    s_verified = true;
                }
                catch
                {
                    NativeLibrary.Free(s_handle);
                    s_handle = IntPtr.Zero;
                    LoadedPath = null;
                    throw;
                }
            }
        }

        private static void Load()
        {
            var searched = new List<string>();
            foreach (string candidate in CandidatePaths())
            {
                searched.Add(candidate);
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out IntPtr handle))
                {
                    s_handle = handle;
                    LoadedPath = candidate;
                    break;
                }
            }

            if (s_handle == IntPtr.Zero)
            {
                throw new DllNotFoundException(
                    $"RdsSessions could not load its native library '{Interop.NativeLib}' for {RuntimeInformation.RuntimeIdentifier} " +
                    $"({RuntimeInformation.ProcessArchitecture}). Paths searched:{Environment.NewLine}  " +
                    string.Join(Environment.NewLine + "  ", searched) + Environment.NewLine +
                    $"Set {OverrideVariable} to the full path of the library to load it from elsewhere.");
            }

            if (Interlocked.Exchange(ref s_resolverRegistered, 1) == 0)
            {
                NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
            }
        }

        /// <summary>Checks that the loaded file is the RdsSessions library of this module's version.</summary>
        private static void Verify()
        {
            // Look for the entry point before the generated code calls it: a file that is some
            // other library would otherwise fail with a bare EntryPointNotFoundException.
            if (!NativeLibrary.TryGetExport(s_handle, "rds_version", out _))
            {
                throw new InvalidOperationException(
                    $"The file at '{LoadedPath}' is not the RdsSessions native library (it has no rds_version entry point). " +
                    $"Check {OverrideVariable}, or reinstall the module.");
            }

            string nativeVersion;
            try
            {
                // Touching Interop runs its generated static constructor, which compares the
                // library's API hash with the bindings' and throws on a mismatch.
                using Utf8String v = Interop.rds_version();
                nativeVersion = v.String;
            }
            catch (TypeInitializationException e)
            {
                s_permanentFailure =
                    $"The native library at '{LoadedPath}' does not match this module's bindings ({e.InnerException?.Message ?? e.Message}). " +
                    "Reinstall the module or rebuild both from the same source.";
                throw new InvalidOperationException(s_permanentFailure, e);
            }

            string moduleVersion = ModuleVersion;
            if (!string.Equals(nativeVersion, moduleVersion, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"The native library at '{LoadedPath}' is version {nativeVersion}, but the module is version {moduleVersion}. " +
                    "Reinstall the module or rebuild both from the same source.");
            }
        }

        /// <summary>The module's version (from the assembly, stamped from Cargo.toml by the build).</summary>
        public static string ModuleVersion =>
            typeof(NativeLoader).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(NativeLoader).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

        private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            return string.Equals(libraryName, Interop.NativeLib, StringComparison.Ordinal) ? s_handle : IntPtr.Zero;
        }

        private static IEnumerable<string> CandidatePaths()
        {
            string? overridePath = Environment.GetEnvironmentVariable(OverrideVariable);
            if (!string.IsNullOrWhiteSpace(overridePath))
            {
                // An explicit override is the only candidate: silently falling back would hide
                // that the requested library was not used.
                yield return Path.GetFullPath(overridePath);
                yield break;
            }

            string baseDir = Path.GetDirectoryName(typeof(NativeLoader).Assembly.Location) ?? AppContext.BaseDirectory;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string rid in CandidateRids())
            {
                if (!seen.Add(rid))
                {
                    continue;
                }

                foreach (string file in FileNames())
                {
                    yield return Path.Combine(baseDir, "runtimes", rid, "native", file);
                }
            }
        }

        private static IEnumerable<string> CandidateRids()
        {
            // The RID the runtime was built for ("linux-x64", "linux-musl-x64", or a distro RID
            // for source-built .NET), then the portable os-arch of this process.
            yield return RuntimeInformation.RuntimeIdentifier;
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            yield return $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        }

        private static IEnumerable<string> FileNames()
        {
            string name = Interop.NativeLib;
            if (OperatingSystem.IsWindows())
            {
                return new[] { $"{name}.dll" };
            }

            return OperatingSystem.IsMacOS()
                ? new[] { $"lib{name}.dylib" }
                : new[] { $"lib{name}.so" };
        }
    }

    /// <summary>Loads the native library when the module is imported.</summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        /// <inheritdoc />
        public void OnImport() => NativeLoader.EnsureLoaded();
    }
}
