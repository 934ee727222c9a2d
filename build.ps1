#!/usr/bin/env pwsh
# build.ps1 - the whole pipeline on a fresh clone:
#   C core (CMake) -> C tests (ctest) -> the C tests for linux-arm64 (cross-built, NEON, under
#   qemu-user, quick mode) -> the C tests again under ASan+UBSan and under valgrind
#   memcheck -> libFuzzer (60 s) -> managed build -> C# tests (both library builds)
#   -> leak check (NativeBuffer churn, both library builds: abandoned buffers go back to the GC, and
#      LeakSanitizer finds no leak in libnativekl; a positive control for each)
#   -> NativeAOT: `nativekl` published with PublishAot (no trimming/AOT warnings), its demo run
#   -> NativeBuffer lifetime: forgotten buffers in KL calls under forced collections (CoreCLR with
#      tiered compilation off, both library builds; NativeAOT)
#   -> benchmark smoke: `NativeKl.Benchmarks --quick` (about a minute; asserts nothing about time, must exit 0)
#   [-> -Pack: the NuGet package, artifacts/packages/NativeKl.<version>.nupkg]
# and one closing line `N passed, N failed` over all of them. Exits non-zero on any failure.
# (The examples for C, C++ and Python run in ctest; the package's consumer test in the C# tests.)
#
#   dotnet tool restore; dotnet pwsh ./build.ps1 [-Configuration Release|Debug] [-Pack]
#                                                [-Only <stage,...>] [-Skip <stage,...>] [-Fast]
#
# Stages, in the order they run: native (C build + ctest), native-arm64 (C cross build + ctest under
# qemu-aarch64), sanitize (ctest under ASan+UBSan),
# memcheck (ctest under valgrind), fuzz, native-win-x64 (the C core cross-built with mingw-w64, its C
# tests under wine; and an x86-64-v3 baseline build), managed (C# build + both test projects), leak, aot,
# lifetime (NativeBuffer under forced collections: CoreCLR and NativeAOT),
# bench-smoke, managed-arm64 and managed-win-x64 (the C# tests published self-contained for
# linux-arm64 and win-x64 with the cross-built libnativekl, run under qemu-aarch64 and wine),
# pack (only with -Pack or when named: NativeKl with linux-x64, linux-arm64 and win-x64 libraries,
# and the NativeKl.Cli tool), and consumers (the package published per RID and run natively, under
# qemu and under wine; the tool installed and run; packs first when pack did not run). With no
# switches every stage but pack runs, as .ci/run needs. -Only runs just the named stages, -Skip leaves the named ones out, and -Fast is
# the inner loop, -Only native,managed: every C and C# test, none of the slow reliability runs.
# Unknown names are an error that lists the valid ones. The closing line counts what ran.
# docs/maintaining.md has faster loops still (one ctest test, a filtered dotnet test).
#
# -Bench instead runs the benchmark suite only: ElementwiseBenchmarks in full (with the PyTorch rows
# through TorchSharp; -NoTorch leaves them out), then regenerates benchmarks/results/ (tables, CSV,
# charts) and the results section of docs/benchmarks.md. 20-40 minutes on a 2-core machine; run it at
# `nice -n -10` where you can:  nice -n -10 dotnet pwsh ./build.ps1 -Bench
# -Bench -BenchSet targets runs the speed-target set instead (SmallNBenchmarks, ParallelBenchmarks,
# ParallelDistillationBenchmarks, DistillationBenchmarks, one run) and writes benchmarks/results/targets.md
# and the targets-results section of docs/benchmarks.md (docs/benchmarks.md says how long it takes).
param(
    [ValidateSet('Release', 'Debug')] [string] $Configuration = 'Release',
    [string[]] $Only = @(),
    [string[]] $Skip = @(),
    [switch] $Fast,
    [switch] $Pack,
    [switch] $Bench,
    [switch] $NoTorch,
    [ValidateSet('elementwise', 'targets')] [string] $BenchSet = 'elementwise'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$nativeTests = Join-Path $root 'build/native-tests'
$results = Join-Path $root "artifacts/test-results/$Configuration"
$passed = 0; $failed = 0; $broken = @()
# What failed, by name, repeated just above the closing line: CI keeps only the tail of the log.
$failures = [System.Collections.Generic.List[string]]::new()
$benchProject = Join-Path $root 'benchmarks/NativeKl.Benchmarks'

function Invoke-Step([string] $name, [scriptblock] $block) {
    Write-Host "==> $name" -ForegroundColor Cyan
    & $block
    if ($LASTEXITCODE -ne 0) { $script:broken += "$name (exit $LASTEXITCODE)" }
    $global:LASTEXITCODE = 0
}

# Runs ctest with the given arguments and adds its tests to the tally.
function Invoke-CTest([string] $name, [string[]] $arguments) {
    Write-Host "==> $name" -ForegroundColor Cyan
    & ctest @arguments --output-on-failure 2>&1 | Tee-Object -Variable lines | Out-Host
    $exit = $LASTEXITCODE
    $summary = $lines | Select-String -Pattern '(\d+)% tests passed, (\d+) tests failed out of (\d+)' | Select-Object -Last 1
    if ($summary) {
        $cFailed = [int]$summary.Matches[0].Groups[2].Value
        $cTotal = [int]$summary.Matches[0].Groups[3].Value
        $cSkipped = @($lines | Select-String -Pattern '\*\*\*Skipped|Not Run').Count
        $script:passed += $cTotal - $cFailed - $cSkipped
        $script:failed += $cFailed
        # ctest lists them after "The following tests FAILED:" as "  12 - name (Failed)"; the same
        # shape after "The following tests did not run:" says "(Skipped)", which is not a failure
        $lines | Select-String -Pattern '^\s+\d+ - (\S+) \((.+)\)\s*$' |
            Where-Object { $_.Matches[0].Groups[2].Value -ne 'Skipped' } |
            ForEach-Object { $script:failures.Add("$name`: $($_.Matches[0].Groups[1].Value) ($($_.Matches[0].Groups[2].Value))") }
        Write-Host "$name`: $($cTotal - $cFailed - $cSkipped) passed, $cFailed failed, $cSkipped skipped"
    } else {
        $script:broken += "$name (no summary line)"
    }
    if ($exit -ne 0) { $script:broken += "$name (exit $exit)" }
    $global:LASTEXITCODE = 0
}

# A check that is one test in the tally: a command whose exit status says pass or fail.
function Invoke-Check([string] $name, [scriptblock] $block) {
    Write-Host "==> $name" -ForegroundColor Cyan
    $output = @()   # Tee-Object sets it only when the block prints something
    & $block | Tee-Object -Variable output | Out-Host
    $last = if (@($output).Count -gt 0) { @($output)[-1] } else { 'no output' }
    if ($LASTEXITCODE -eq 0) { $script:passed++ } else { Add-Failure $name "exit $LASTEXITCODE; $last" }
    $global:LASTEXITCODE = 0
}

# The tests of one TRX file (dotnet test's logger, or an xunit.v3 test program's -result-trx) in the tally.
function Add-TrxResults([string] $label, [string] $file) {
    if (-not (Test-Path $file)) { $script:broken += "$label (no TRX results)"; return }
    $run = ([xml](Get-Content -Raw $file)).TestRun
    $counters = $run.ResultSummary.Counters
    $script:passed += [int]$counters.passed
    $script:failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    Write-Host "$label`: $($counters.passed) passed, $($counters.failed) failed"
    @($run.Results.UnitTestResult) | Where-Object { $_ -and $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' } |
        ForEach-Object { $script:failures.Add("$label`: $($_.testName) ($($_.outcome))") }
}

# One failed test in the tally, said now and again at the end.
function Add-Failure([string] $name, [string] $why) {
    $script:failed++
    $script:failures.Add("$name`: $why")
    Write-Host "$name`: FAILED ($why)" -ForegroundColor Red
}

# Every wine run (native-win-x64, managed-win-x64, consumers) uses one prefix of our own under build/,
# not the user's ~/.wine.
$env:WINEPREFIX = Join-Path $root 'build/wine-prefix'

# ------------------------------------------------------------ stage selection
$stages = @('native', 'native-arm64', 'sanitize', 'memcheck', 'fuzz', 'native-win-x64', 'managed', 'leak', 'aot', 'lifetime', 'bench-smoke', 'managed-arm64', 'managed-win-x64', 'pack', 'consumers')
# `pwsh -File` passes `-Only a,b` as the one string "a,b"; a PowerShell caller passes an array.
function Split-Stages([string[]] $names, [string] $switch) {
    $list = @($names | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
    foreach ($n in $list) {
        if ($stages -notcontains $n) {
            Write-Host "build.ps1: unknown stage '$n' in $switch; the stages are: $($stages -join ', ')" -ForegroundColor Red
            exit 2
        }
    }
    return $list
}
$Only = @(Split-Stages $Only '-Only')
$Skip = @(Split-Stages $Skip '-Skip')
if ($Fast) {
    if ($Only.Count -gt 0) { Write-Host 'build.ps1: -Fast is -Only native,managed; give one or the other' -ForegroundColor Red; exit 2 }
    $Only = @('native', 'managed')
}
if ($PSBoundParameters.ContainsKey('BenchSet') -and -not $Bench) {
    Write-Host 'build.ps1: -BenchSet goes with -Bench' -ForegroundColor Red; exit 2
}
if ($Bench -and ($Only.Count -gt 0 -or $Skip.Count -gt 0)) {
    Write-Host 'build.ps1: -Bench runs the benchmark suite alone; it takes no -Only, -Skip or -Fast' -ForegroundColor Red; exit 2
}
$selected = if ($Only.Count -gt 0) { $Only } else { @($stages | Where-Object { $_ -ne 'pack' }) }
$selected = @($stages | Where-Object { ($selected -contains $_ -or ($_ -eq 'pack' -and $Pack)) -and $Skip -notcontains $_ })
function Test-Stage([string] $name) { return $selected -contains $name }
if ($Only.Count -gt 0 -or $Skip.Count -gt 0) {
    Write-Host "stages: $(if ($selected.Count -gt 0) { $selected -join ', ' } else { 'none' })" -ForegroundColor Cyan
}

# ------------------------------------------------------------ -Bench: the benchmark suite and its report
if ($Bench) {
    $artifacts = Join-Path $root 'artifacts/bench'
    if (Test-Path $artifacts) { Remove-Item -Recurse -Force $artifacts }
    $torch = @()
    if (-not $NoTorch) {
        $torch = @('-p:WithTorchSharp=true')
        $fix = Join-Path $root 'tools/torchsharp-debian12/torchsharp-debian12.sh'
        if ($IsLinux -and (Test-Path $fix)) {
            # Debian 12: libtorch's shim needs a newer libstdc++ symbol; the script prints the LD_PRELOAD that supplies it.
            $preload = (& bash $fix | Select-Object -Last 1)
            if ($preload -match '^LD_PRELOAD=(.+)$') { $env:LD_PRELOAD = $Matches[1] }
        }
    }
    $cpu = if ($IsLinux) { ((& lscpu | Select-String '^Model name:').Line -replace '^Model name:\s*', '') } else { $env:PROCESSOR_IDENTIFIER }
    $os = if (Test-Path /etc/os-release) { ((Get-Content /etc/os-release | Select-String '^PRETTY_NAME=').Line -replace '^PRETTY_NAME="?|"$', '') } else { [Environment]::OSVersion.VersionString }
    $loadStart = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg) -replace ' \S+ \S+$', '' } else { '?' }
    $started = Get-Date
    if ($BenchSet -eq 'targets') {
        # One run of the four classes; the report reads results/run-info.txt for the machine and the load.
        Invoke-Step 'bench: speed-target set (SmallN, Parallel, ParallelDistillation, Distillation)' {
            dotnet run -c Release --project $benchProject @torch -- --targets --artifacts $artifacts
        }
        Invoke-Step 'bench: report (benchmarks/results/targets.md, docs/benchmarks.md section)' {
            dotnet run -c Release --project (Join-Path $root 'benchmarks/NativeKl.Benchmarks.Report') -- targets (Join-Path $artifacts 'results') $root
        }
        foreach ($b in $broken) { Write-Host "failed step: $b" -ForegroundColor Red }
        Write-Host "$(2 - $broken.Count) passed, $($broken.Count) failed ($([math]::Round(((Get-Date) - $started).TotalMinutes, 1)) min)"
        if ($broken.Count -gt 0) { exit 1 }
        exit 0
    }
    Invoke-Step 'bench: ElementwiseBenchmarks (full matrix)' {
        dotnet run -c Release --project $benchProject @torch -- --filter '*ElementwiseBenchmarks*' --artifacts $artifacts
    }
    $minutes = [math]::Round(((Get-Date) - $started).TotalMinutes)
    $loadEnd = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg) -replace ' \S+ \S+$', '' } else { '?' }
    $machine = "$cpu, $([Environment]::ProcessorCount) logical CPUs, $os, .NET $((& dotnet --list-runtimes | Select-String 'Microsoft.NETCore.App').Line.Split(' ')[1] | Select-Object -Last 1), " +
               "BenchmarkDotNet 0.15.8; run $($started.ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC, $minutes min, " +
               "load average (1, 5, 15 min) $loadStart at the start and $loadEnd at the end"
    $csv = Join-Path $artifacts 'results/NativeKl.Benchmarks.ElementwiseBenchmarks-report.csv'
    $accuracy = Join-Path $artifacts 'results/elementwise-accuracy.csv'
    Invoke-Step 'bench: report (tables, charts, docs/benchmarks.md section)' {
        dotnet run -c Release --project (Join-Path $root 'benchmarks/NativeKl.Benchmarks.Report') -- $csv $accuracy $root $machine
    }
    foreach ($b in $broken) { Write-Host "failed step: $b" -ForegroundColor Red }
    Write-Host "$(2 - $broken.Count) passed, $($broken.Count) failed"
    if ($broken.Count -gt 0) { exit 1 }
    exit 0
}

# ------------------------------------------------------------ C core and C tests
# The C tests also register under valgrind memcheck (label memcheck, run below) when valgrind is here.
# The memcheck stage runs them from this build, so it configures and builds it too.
$memcheck = [bool](Get-Command valgrind -ErrorAction SilentlyContinue)
if (-not $memcheck -and (Test-Stage 'memcheck')) { $broken += 'valgrind not found: the memcheck runs cannot run (apt-get install valgrind)' }
if ((Test-Stage 'native') -or (Test-Stage 'memcheck')) {
    Invoke-Step 'native: configure' { cmake -S $root -B $nativeTests -DCMAKE_BUILD_TYPE=Release -DNKL_BUILD_TESTS=ON -DNKL_BUILD_BENCH=OFF "-DNKL_MEMCHECK=$(if ($memcheck) { 'ON' } else { 'OFF' })" }
    Invoke-Step 'native: build' { cmake --build $nativeTests --parallel }
}
if (Test-Stage 'native') { Invoke-CTest 'native: ctest' @('--test-dir', $nativeTests, '-LE', 'memcheck') }

# ------------------------------------------------------------ linux-arm64: the C tests under qemu
# Cross-built with eng/toolchains/aarch64-linux-gnu.cmake (gcc-aarch64-linux-gnu; .ci/run installs
# it and qemu-user) and run under qemu-aarch64: test_*.neon run on NEON, the active ISA there
# (test_isa_env.auto checks it is the default), test_paths_bitwise compares it with the scalar path.
# Emulation is 17-235x slower, so quick mode (NKL_TEST_QUICK=1, nkl_test.h): it skips the cases of a
# million elements or more (test_paths_bitwise's 1,000,003, test_chunks' longest) and shrinks
# test_accuracy (10^5 terms, not 10^7) and test_distill (no 32,000-class rows, 4 rows of 1,000 classes,
# not 64); every other case runs. Not test_ulp: its 2^32-point sweeps would take hours emulated (NEON's
# log and exp are held to the scalar path's bits, whose accuracy the native stage measures). Measured
# on 2 shared cores: a fresh cross build 18 s, ctest 229 s (test_distill's two runs take 2 minutes each).
# test_platform_digest prints a hash of the scalar path's outputs (every entry point, both types);
# a cross build's must equal the Linux x86-64 build's: the same bits on every platform.
function Get-Digest([string[]] $command) {
    $out = & $command[0] @($command | Select-Object -Skip 1) 2>&1
    $line = $out | Select-String -Pattern '^digest scalar: ([0-9a-f]{16})$' | Select-Object -First 1
    if ($line) { return $line.Matches[0].Groups[1].Value } else { return "none ($($out | Select-Object -Last 1))" }
}
# The Linux digest from the native tree (built by the native stage, or just this target here).
# (Out-Host: the steps' output must not become part of the returned value.)
function Get-LinuxDigest {
    Invoke-Step 'native: configure (for the digest)' { cmake -S $root -B $nativeTests -DCMAKE_BUILD_TYPE=Release -DNKL_BUILD_TESTS=ON } | Out-Host
    Invoke-Step 'native: build test_platform_digest' { cmake --build $nativeTests --parallel 2 --target test_platform_digest } | Out-Host
    return Get-Digest @((Join-Path $nativeTests 'native/tests/test_platform_digest'))
}

$arm64Tests = Join-Path $root 'build/native-arm64'
$arm64Toolchain = Join-Path $root 'eng/toolchains/aarch64-linux-gnu.cmake'
if (Test-Stage 'native-arm64') {
    if (-not (Get-Command aarch64-linux-gnu-gcc -ErrorAction SilentlyContinue) -or -not (Get-Command qemu-aarch64 -ErrorAction SilentlyContinue)) {
        $broken += 'native-arm64: aarch64-linux-gnu-gcc or qemu-aarch64 not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)'
    } else {
        Invoke-Step 'native-arm64: configure' { cmake -S $root -B $arm64Tests "-DCMAKE_TOOLCHAIN_FILE=$arm64Toolchain" -DCMAKE_BUILD_TYPE=Release -DNKL_BUILD_TESTS=ON -DNKL_BUILD_BENCH=OFF }
        Invoke-Step 'native-arm64: build' { cmake --build $arm64Tests --parallel 2 }
        $env:NKL_TEST_QUICK = '1'
        try { Invoke-CTest 'native-arm64: ctest under qemu (quick)' @('--test-dir', $arm64Tests, '-E', '^test_ulp$', '--parallel', '2') }
        finally { Remove-Item Env:NKL_TEST_QUICK }
        $linuxDigest = Get-LinuxDigest
        Invoke-Check 'native-arm64: scalar bits equal to Linux x86-64 (test_platform_digest)' {
            $armDigest = Get-Digest @('qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', (Join-Path $arm64Tests 'native/tests/test_platform_digest'))
            Write-Output "linux-x64 $linuxDigest, linux-arm64 under qemu $armDigest"
            $global:LASTEXITCODE = if ($armDigest -eq $linuxDigest) { 0 } else { 1 }
        }
    }
}

# ------------------------------------------------------------ C core under sanitizers and valgrind
# The same C tests built with AddressSanitizer + UndefinedBehaviorSanitizer (any report fails the
# test), but test_ulp: its 2^32-point sweeps take ~70 s optimised and many minutes instrumented;
# nor the examples (C, C++, Python consumers of the installed library), which test packaging,
# not the core, and whose uninstrumented hosts cannot load an ASan library.
$sanitizedTests = Join-Path $root 'build/native-sanitize'
if (Test-Stage 'sanitize') {
    Invoke-Step 'native (ASan+UBSan): configure' { cmake -S $root -B $sanitizedTests -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNKL_SANITIZE=ON -DNKL_BUILD_TESTS=ON -DNKL_BUILD_BENCH=OFF }
    Invoke-Step 'native (ASan+UBSan): build' { cmake --build $sanitizedTests --parallel }
    Invoke-CTest 'native: ctest under ASan+UBSan' @('--test-dir', $sanitizedTests, '-E', '^test_ulp$|^examples\.')
}
# valgrind memcheck over the optimised build (which tests and why: native/tests/CMakeLists.txt).
if ($memcheck -and (Test-Stage 'memcheck')) { Invoke-CTest 'native: ctest under valgrind memcheck' @('--test-dir', $nativeTests, '-L', 'memcheck', '--parallel', '2') }
# libFuzzer over every public entry point, for a bounded time (native/fuzz/run.sh; needs clang).
if (Test-Stage 'fuzz') { Invoke-Check 'native: fuzz (60 s)' { bash (Join-Path $root 'native/fuzz/run.sh') 60 } }

# ------------------------------------------------------------ win-x64: mingw-w64 build, C tests under wine
# eng/toolchains/x86_64-w64-mingw32.cmake builds libnativekl.dll and the test .exe files; ctest runs
# them under wine (its CMAKE_CROSSCOMPILING_EMULATOR), in a prefix of our own under build/. The wine
# services are started first, with no terminal attached: started by the first test instead, they keep
# its output pipe open and ctest waits ~10 minutes for it. NKL_TEST_QUICK=1: test_ulp measures every
# 61st float32 pattern and every 8th float64 stratum, test_accuracy 10^5 terms, test_distill smaller
# rows (the full sweeps run in the native stage; here they would take most of 10 minutes). The
# examples.* tests are not registered in a cross build (they run consumers on the build host).
# Then the scalar path's bits: test_platform_digest's scalar digest under wine must equal the Linux
# build's. And the x86-64-v3 baseline (what a distribution building with -march=x86-64-v3 or
# -march=native gets: dispatch.c compiled with AVX2 too) must build, pass its bitwise tests and give
# the same digest. About 4 minutes on 2 cores.
if (Test-Stage 'native-win-x64') {
    $winTests = Join-Path $root 'build/native-win-x64'
    $toolchain = Join-Path $root 'eng/toolchains/x86_64-w64-mingw32.cmake'
    Invoke-Step 'native-win-x64: configure' { cmake -S $root -B $winTests "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DCMAKE_BUILD_TYPE=Release -DNKL_BUILD_TESTS=ON -DNKL_BUILD_BENCH=ON }
    Invoke-Step 'native-win-x64: build' { cmake --build $winTests --parallel 2 }
    $env:WINEDEBUG = '-all'
    # A persistent server first (exit 2: one already runs for this prefix), then the prefix and its services.
    Invoke-Step 'native-win-x64: start wine' { bash -c 'wineserver -p </dev/null >/dev/null 2>&1; [ $? -le 2 ] && wineboot -i </dev/null >/dev/null 2>&1' }
    $env:NKL_TEST_QUICK = '1'
    Invoke-CTest 'native-win-x64: ctest under wine' @('--test-dir', $winTests, '--parallel', '2')
    Remove-Item Env:NKL_TEST_QUICK

    $linuxDigest = Get-LinuxDigest
    Invoke-Check 'native-win-x64: scalar bits equal to Linux (test_platform_digest)' {
        $winDigest = Get-Digest @('wine', (Join-Path $winTests 'native/tests/test_platform_digest.exe'))
        Write-Output "linux $linuxDigest, win-x64 under wine $winDigest"
        $global:LASTEXITCODE = if ($winDigest -eq $linuxDigest) { 0 } else { 1 }
    }
    & wineserver -k; $global:LASTEXITCODE = 0   # this prefix's server only
    Remove-Item Env:WINEDEBUG

    # x86-64-v3 baseline: the bitwise and dispatch tests, quick, and the same digest.
    $v3Tests = Join-Path $root 'build/native-x86-64-v3'
    Invoke-Step 'x86-64-v3 baseline: configure' { cmake -S $root -B $v3Tests -DCMAKE_BUILD_TYPE=Release '-DCMAKE_C_FLAGS=-march=x86-64-v3' -DNKL_BUILD_TESTS=ON -DNKL_BUILD_BENCH=OFF }
    Invoke-Step 'x86-64-v3 baseline: build' { cmake --build $v3Tests --parallel 2 --target test_paths_bitwise test_isa_env test_special_values test_platform_digest nativekl }
    if ((& grep -c -w avx2 /proc/cpuinfo) -gt 0) {
        $env:NKL_TEST_QUICK = '1'
        Invoke-CTest 'x86-64-v3 baseline: ctest (bitwise, dispatch, special values)' @('--test-dir', $v3Tests, '-R', '^(test_paths_bitwise|test_isa_env|test_special_values|test_platform_digest)')
        Remove-Item Env:NKL_TEST_QUICK
        Invoke-Check 'x86-64-v3 baseline: scalar bits equal to the baseline build' {
            $v3Digest = Get-Digest @((Join-Path $v3Tests 'native/tests/test_platform_digest'))
            Write-Output "x86-64 $linuxDigest, x86-64-v3 $v3Digest"
            $global:LASTEXITCODE = if ($v3Digest -eq $linuxDigest) { 0 } else { 1 }
        }
    } else {
        Write-Host 'x86-64-v3 baseline: built; not run (this CPU has no AVX2)' -ForegroundColor Yellow
    }
}

# ------------------------------------------------------------ managed build and C# tests
if (Test-Stage 'managed') {
    Invoke-Step 'managed: build' { dotnet build (Join-Path $root 'NativeKl.sln') -c $Configuration -nologo }

    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    foreach ($project in 'NativeKl.Tests', 'NativeKl.Tests.NetStandard') {
        $trx = "$project.trx"
        Invoke-Step "managed: test $project" {
            dotnet test (Join-Path $root "tests/$project/$project.csproj") -c $Configuration --no-build -nologo `
                --logger "trx;LogFileName=$trx" --results-directory $results
        }
        Add-TrxResults $project (Join-Path $results $trx)
    }
}

# ------------------------------------------------------------ leak check (managed heap, LeakSanitizer)
# The stress run (both library builds) must give every abandoned NativeBuffer back to the GC and
# leak nothing through libnativekl; each positive control, on each build, must be caught.
if (Test-Stage 'leak') {
    $leakCheck = Join-Path $root 'tests/NativeKl.LeakCheck/run.sh'
    Write-Host '==> leak check' -ForegroundColor Cyan
    & bash $leakCheck 20000 | Out-Host
    if ($LASTEXITCODE -eq 0) { $passed++ } else { Add-Failure 'leak check' "exit $LASTEXITCODE" }
    foreach ($control in '--leak-one', '--leak-native') {
        foreach ($build in 'net8.0', 'netstandard2.0') {
            & bash $leakCheck 200 $control --build $build | Out-Host
            if ($LASTEXITCODE -ne 0) { $passed++ } else { Add-Failure "leak check control $control ($build)" 'a deliberate leak went unseen' }
        }
    }
    $global:LASTEXITCODE = 0
}

# ------------------------------------------------------------ NativeAOT
# Two checks: the publish gives no trimming or AOT warning (IL2xxx/IL3xxx), and the native
# executable runs the seed example on the native library.
if (Test-Stage 'aot') {
    $aot = Join-Path $root 'artifacts/nativekl-aot'
    Write-Host '==> NativeAOT: publish nativekl' -ForegroundColor Cyan
    if (Test-Path $aot) { Remove-Item -Recurse -Force $aot }
    $publishLines = & dotnet publish (Join-Path $root 'src/NativeKl.Cli/NativeKl.Cli.csproj') -c Release -r linux-x64 `
        -p:NklNativeAot=true -o $aot -nologo 2>&1
    $publishLines | Out-Host
    $aotWarnings = @($publishLines | Select-String -Pattern 'warning IL[23]\d{3}' | ForEach-Object { $_.Line.Trim() } | Sort-Object -Unique)
    $aotExe = Join-Path $aot 'nativekl'
    if ($LASTEXITCODE -eq 0 -and (Test-Path $aotExe) -and $aotWarnings.Count -eq 0) {
        $passed++
        Write-Host ("NativeAOT publish: {0:N0} bytes, no trimming/AOT warnings" -f (Get-Item $aotExe).Length)
    } else {
        Add-Failure 'NativeAOT publish' "exit $LASTEXITCODE, $($aotWarnings.Count) trimming/AOT warnings"
        $aotWarnings | ForEach-Object { Write-Host "  $_" -ForegroundColor Red }
    }
    Write-Host '==> NativeAOT: nativekl demo' -ForegroundColor Cyan
    $demo = if (Test-Path $aotExe) { & $aotExe demo 2>&1 | Out-String } else { 'no executable' }
    $demo | Out-Host
    if ($LASTEXITCODE -eq 0 -and $demo -match 'batchmean  0\.057796' -and $demo -match 'backend: Native') {
        $passed++
    } else {
        Add-Failure 'NativeAOT demo' 'expected batchmean 0.057796 on the native backend'
    }
    $global:LASTEXITCODE = 0
}

# ------------------------------------------------------------ NativeBuffer lifetime
# `KlDivergence.Sum(new NativeBuffer<float>(n).Span, t)` and its relatives in a loop, 5 s per run,
# while another thread forces collections: every result exact, no crash (tests/NativeKl.LifetimeCheck).
if (Test-Stage 'lifetime') {
    $lifetime = Join-Path $root 'tests/NativeKl.LifetimeCheck/run.sh'
    Invoke-Check 'lifetime: CoreCLR, tiered compilation off, net8.0 build' { bash $lifetime coreclr 5 }
    Invoke-Check 'lifetime: CoreCLR, tiered compilation off, netstandard2.0 build' { bash $lifetime coreclr-netstandard 5 }
    Invoke-Check 'lifetime: NativeAOT, net8.0 build' { bash $lifetime aot 5 }
}

# ------------------------------------------------------------ benchmark smoke
# The benchmark program in its --quick mode (short job, N = 6 and 32,000, no TorchSharp): one
# check, passed when it exits 0; then the report tool's tests (tests/NativeKl.Benchmarks.Report.Tests). Release whatever -Configuration says: BenchmarkDotNet refuses
# unoptimized code.
if (Test-Stage 'bench-smoke') {
    Write-Host '==> benchmarks: --quick smoke' -ForegroundColor Cyan
    $smokeStarted = Get-Date
    & dotnet run -c Release --project $benchProject -- --quick --artifacts (Join-Path $root 'artifacts/bench-quick') | Out-Host
    $smokeExit = $LASTEXITCODE
    $smokeSeconds = [math]::Round(((Get-Date) - $smokeStarted).TotalSeconds)
    if ($smokeExit -eq 0) { $passed++; Write-Host "benchmark smoke: passed in $smokeSeconds s" }
    else { Add-Failure 'benchmark smoke' "exit $smokeExit, $smokeSeconds s" }
    $global:LASTEXITCODE = 0
    # The report tool's parsers (the speed-target tables) on fake and recorded exports: seconds, no benchmark runs.
    & dotnet test (Join-Path $root 'tests/NativeKl.Benchmarks.Report.Tests') -c Release -nologo | Out-Host
    if ($LASTEXITCODE -eq 0) { $passed++ } else { Add-Failure 'benchmark report tests' "exit $LASTEXITCODE" }
    $global:LASTEXITCODE = 0
}

# ------------------------------------------------------------ C# tests under emulation
# The C# tests (the net8.0 build of the library; tests/NativeKl.Tests is an xunit.v3 program, its
# own runner) published self-contained for another RID, with libnativekl cross-built for it
# (eng/NativeCore.proj, eng/toolchains/) under runtimes/<rid>/native/, and run under the emulator.
# ApiTests.Auto_uses_the_native_library_when_it_loads asserts KlBackend.Active == Native there; the
# other tests run every backend of the Registry (native on its active ISA, native scalar, managed).
# The whole suite is too slow under emulation (measured: 735 tests in 9 min under qemu before the
# 1,000,003-element sweeps, 420 s for 17 of them, 413 s for 3 allocation tests), so these runs take
# a subset that finishes in a few minutes:
#   ran:     the API and its backend choice, PyTorch's golden results (forward and backward),
#            special values, NaN bits on every backend, chunk partials native == managed,
#            distillation (every backend the same bits), the bad-input tables, backward validation;
#   skipped: the 0..257 and 1,000,003-element sweeps, the bit-identity sweeps, soak, stress,
#            concurrency and parallel runs, allocation counts (they run natively in the managed
#            stage), and every test that starts a process or reads Linux paths: the CLI, the
#            package, NATIVEKL_LIBRARY, bindings and constants (libclang is x64-only), NativeBuffer.
#   A hung run is killed (qemu after 10 min, wine after 5; measured: qemu 171 s for the subset).
# The netstandard2.0 build is not run under emulation (the managed stage runs it natively).
$emulatedClasses = @(
    'ApiTests', 'GoldenTests', 'BackwardGoldenTests', 'SpecialValueTests', 'NanBitsTests', 'PartialIdentityTests',
    'DistillationTests', 'BadInputTableTests', 'BackwardValidationTests')
$emulatedSkips = @('*.Calls_allocate_nothing')
function Invoke-EmulatedTests([string] $stage, [string] $rid, [string[]] $emulator, [hashtable] $environment, [string[]] $publishArgs = @(), [string[]] $skips = @(), [int] $limit = 600) {
    $out = Join-Path $root "artifacts/$stage"
    $trx = Join-Path $results "$stage.trx"
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    $started = Get-Date
    Invoke-Step "$stage`: publish NativeKl.Tests for $rid" {
        dotnet publish (Join-Path $root 'tests/NativeKl.Tests/NativeKl.Tests.csproj') -c $Configuration -r $rid --self-contained `
            -o $out "-p:NklNativeRuntimes=$rid" -p:ValidateExecutableReferencesMatchSelfContained=false @publishArgs -nologo
    }
    $published = [math]::Round(((Get-Date) - $started).TotalSeconds)
    $exe = Join-Path $out $(if ($rid.StartsWith('win-')) { 'NativeKl.Tests.exe' } else { 'NativeKl.Tests' })
    if (-not (Test-Path $exe)) { $script:broken += "$stage (no published test program)"; return }
    $filters = @($emulatedClasses | ForEach-Object { '-class', "NativeKl.Tests.$_" }) + @($emulatedSkips + $skips | ForEach-Object { '-method-', $_ })
    $saved = @{}
    foreach ($k in $environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $environment[$k]) }
    Write-Host "==> $stage`: NativeKl.Tests under $($emulator -join ' ')" -ForegroundColor Cyan
    $runStarted = Get-Date
    try {
        $program = if ($emulator.Count -gt 1) { @($emulator[1..($emulator.Count - 1)]) } else { @() }
        & timeout -k 10 $limit $emulator[0] @program $exe -noLogo -noColor -result-trx $trx @filters | Out-Host
    } finally {
        foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
    }
    $global:LASTEXITCODE = 0
    Add-TrxResults "$stage (NativeKl.Tests, $rid)" $trx
    Write-Host ("$stage`: publish {0} s, tests {1} s" -f $published, [math]::Round(((Get-Date) - $runStarted).TotalSeconds))
}

# .NET under qemu-aarch64: no ICU (invariant globalization); the arm64 libssl that .ci/run unpacks
# into build/arm64-libssl (xunit.v3 hashes test IDs with SHA-256, from OpenSSL on Linux); W^X off,
# since qemu does not see code the runtime writes through the second, writable mapping of a page
# (stale translations: crashes); and ReadyToRun code, so that little is JIT-compiled under emulation.
$qemu = @('qemu-aarch64', '-L', '/usr/aarch64-linux-gnu')
$qemuEnvironment = @{
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT = '1'; DOTNET_EnableWriteXorExecute = '0'
    LD_LIBRARY_PATH = (Join-Path $root 'build/arm64-libssl/usr/lib/aarch64-linux-gnu')
}
if (Test-Stage 'managed-arm64') {
    Invoke-EmulatedTests 'managed-arm64' 'linux-arm64' $qemu $qemuEnvironment @('-p:PublishReadyToRun=true')
    # The managed fallback alone (no libnativekl): its default path on arm64 must be the 128-bit NEON
    # kernels, with digests equal to x64's (tests/NativeKl.Arm64Check; quick: lengths up to 1000).
    Invoke-Check 'managed-arm64: managed fallback without libnativekl (NativeKl.Arm64Check)' { bash (Join-Path $root 'tests/NativeKl.Arm64Check/run.sh') quick }
}
if (Test-Stage 'managed-win-x64') {
    # A persistent wineserver: without it every wine process waits for one to start and stop.
    & wineserver -p60 | Out-Host
    # .NET's W^X double mapping crashes under wine; globalization needs no ICU on Windows.
    Invoke-EmulatedTests 'managed-win-x64' 'win-x64' @('wine') @{ DOTNET_EnableWriteXorExecute = '0'; WINEDEBUG = '-all' } @() @() 300
}

# ------------------------------------------------------------ NuGet packages (-Pack)
# NativeKl with libnativekl for linux-x64 (this machine), linux-arm64 and win-x64 (cross-built with
# eng/toolchains/), and the NativeKl.Cli tool (command `nativekl`) carrying the same libraries.
# Always a build (incremental after the managed stage): the cross-built libraries come from the
# build, which --no-build would skip.
$packages = Join-Path $root 'artifacts/packages'
$packRuntimes = 'linux-x64;linux-arm64;win-x64'
if ((Test-Stage 'pack') -or (Test-Stage 'consumers')) {
    if (Test-Path $packages) { Remove-Item -Recurse -Force $packages }
    Invoke-Step 'pack: NativeKl' {
        dotnet pack (Join-Path $root 'src/NativeKl/NativeKl.csproj') -c $Configuration -o $packages -nologo "-p:NklNativeRuntimes=`"$packRuntimes`""
    }
    Invoke-Step 'pack: NativeKl.Cli (dotnet tool)' {
        dotnet pack (Join-Path $root 'src/NativeKl.Cli/NativeKl.Cli.csproj') -c $Configuration -o $packages -nologo "-p:NklNativeRuntimes=`"$packRuntimes`""
    }
    Get-ChildItem $packages -Filter '*.nupkg' | ForEach-Object { Write-Host ("{0} ({1:N0} bytes)" -f $_.FullName, $_.Length) }
}

# ------------------------------------------------------------ consumers: the package per RID
# tests/NativeKl.PackageConsumer against the packed nupkg (a local folder feed, a packages folder
# of its own), published self-contained per RID and run: linux-x64 here, linux-arm64 under qemu,
# win-x64 under wine. It exits 0 only with KlBackend.Active == Native and the seed example's value.
# Then the tool: `dotnet tool install NativeKl.Cli` from the same feed, and `nativekl demo`.
if (Test-Stage 'consumers') {
    $consumers = Join-Path $root 'artifacts/consumers'
    if (Test-Path $consumers) { Remove-Item -Recurse -Force $consumers }
    $source = Join-Path $consumers 'src'
    New-Item -ItemType Directory -Force $source | Out-Null
    Copy-Item (Join-Path $root 'tests/NativeKl.PackageConsumer/*') $source
    $package = Get-ChildItem $packages -Filter 'NativeKl.*.nupkg' -ErrorAction SilentlyContinue | Where-Object { $_.Name -match '^NativeKl\.\d+\.\d+\.\d+\.nupkg$' } | Select-Object -First 1
    $version = if ($package) { $package.Name -replace '^NativeKl\.|\.nupkg$', '' } else { '0.0.0' }
    Set-Content (Join-Path $source 'nuget.config') @"
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources><add key="local" value="$packages" /></packageSources>
  <config><add key="globalPackagesFolder" value="$(Join-Path $consumers 'packages')" /></config>
</configuration>
"@

    Invoke-Check 'consumers: the nupkg has libnativekl for linux-x64, linux-arm64 and win-x64 (unzip -l)' {
        if (-not $package) { Write-Output 'no NativeKl nupkg in artifacts/packages'; $global:LASTEXITCODE = 1; return }
        $listing = & unzip -l $package.FullName
        $listing | Select-String 'runtimes/' | ForEach-Object { $_.Line }
        $missing = @('runtimes/linux-x64/native/libnativekl.so', 'runtimes/linux-arm64/native/libnativekl.so', 'runtimes/win-x64/native/libnativekl.dll') |
            Where-Object { -not ($listing | Select-String -SimpleMatch $_) }
        if ($missing) { Write-Output "missing from $($package.Name): $($missing -join ', ')"; $global:LASTEXITCODE = 1 } else { $global:LASTEXITCODE = 0 }
    }

    $runs = @(
        @{ Rid = 'linux-x64'; Exe = 'NativeKl.PackageConsumer'; Emulator = @(); Env = @{} },
        @{ Rid = 'linux-arm64'; Exe = 'NativeKl.PackageConsumer'; Emulator = $qemu; Env = $qemuEnvironment },
        @{ Rid = 'win-x64'; Exe = 'NativeKl.PackageConsumer.exe'; Emulator = @('wine'); Env = @{ DOTNET_EnableWriteXorExecute = '0'; WINEDEBUG = '-all' } }
    )
    if ($runs | Where-Object { $_.Rid -eq 'win-x64' }) { & wineserver -p60 | Out-Host }
    foreach ($r in $runs) {
        $out = Join-Path $consumers $r.Rid
        Invoke-Check "consumers: publish for $($r.Rid) and run$(if ($r.Emulator) { " under $($r.Emulator[0])" })" {
            $log = & dotnet publish $source -c Release -r $r.Rid --self-contained -o $out "-p:NativeKlVersion=$version" -nologo 2>&1
            if ($LASTEXITCODE -ne 0) { $log | Select-Object -Last 20; Write-Output "publish for $($r.Rid) failed"; return }
            $exe = Join-Path $out $r.Exe
            foreach ($k in $r.Env.Keys) { [Environment]::SetEnvironmentVariable($k, $r.Env[$k]) }
            try {
                if ($r.Emulator.Count -gt 0) {
                    $rest = if ($r.Emulator.Count -gt 1) { @($r.Emulator[1..($r.Emulator.Count - 1)]) } else { @() }
                    & $r.Emulator[0] @rest $exe
                } else { & $exe }
            } finally {
                foreach ($k in $r.Env.Keys) { [Environment]::SetEnvironmentVariable($k, $null) }
            }
        }
    }

    Invoke-Check 'consumers: dotnet tool install NativeKl.Cli, then nativekl demo (native backend)' {
        $tools = Join-Path $consumers 'tools'
        $log = & dotnet tool install --tool-path $tools --add-source $packages --configfile (Join-Path $source 'nuget.config') --version $version NativeKl.Cli 2>&1
        if ($LASTEXITCODE -ne 0) { $log; Write-Output 'dotnet tool install NativeKl.Cli failed'; return }
        $demo = & (Join-Path $tools 'nativekl') demo 2>&1 | Out-String
        $demo
        if ($LASTEXITCODE -eq 0 -and -not ($demo -match 'batchmean  0\.057796' -and $demo -match 'backend: Native')) {
            Write-Output 'expected batchmean 0.057796 on the native backend'; $global:LASTEXITCODE = 1
        }
    }
}

foreach ($f in $failures) { Write-Host "failed: $f" -ForegroundColor Red }
foreach ($b in $broken) { Write-Host "failed step: $b" -ForegroundColor Red }
Write-Host "$passed passed, $failed failed"
if ($failed -gt 0 -or $broken.Count -gt 0) { exit 1 }
exit 0
