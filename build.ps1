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
# bench-smoke, and pack (only with -Pack or when named). With no switches every stage but pack runs,
# as .ci/run needs. -Only runs just the named stages, -Skip leaves the named ones out, and -Fast is
# the inner loop, -Only native,managed: every C and C# test, none of the slow reliability runs.
# Unknown names are an error that lists the valid ones. The closing line counts what ran.
# docs/maintaining.md has faster loops still (one ctest test, a filtered dotnet test).
#
# -Bench instead runs the benchmark suite only: ElementwiseBenchmarks in full (with the PyTorch rows
# through TorchSharp; -NoTorch leaves them out), then regenerates benchmarks/results/ (tables, CSV,
# charts) and the results section of docs/benchmarks.md. 20-40 minutes on a 2-core machine; run it at
# `nice -n -10` where you can:  nice -n -10 dotnet pwsh ./build.ps1 -Bench
param(
    [ValidateSet('Release', 'Debug')] [string] $Configuration = 'Release',
    [string[]] $Only = @(),
    [string[]] $Skip = @(),
    [switch] $Fast,
    [switch] $Pack,
    [switch] $Bench,
    [switch] $NoTorch
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
        # ctest lists them after "The following tests FAILED:" as "  12 - name (Failed)"
        $lines | Select-String -Pattern '^\s+\d+ - (\S+) \((.+)\)\s*$' |
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

# One failed test in the tally, said now and again at the end.
function Add-Failure([string] $name, [string] $why) {
    $script:failed++
    $script:failures.Add("$name`: $why")
    Write-Host "$name`: FAILED ($why)" -ForegroundColor Red
}

# ------------------------------------------------------------ stage selection
$stages = @('native', 'native-arm64', 'sanitize', 'memcheck', 'fuzz', 'native-win-x64', 'managed', 'leak', 'aot', 'lifetime', 'bench-smoke', 'pack')
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
    $env:WINEPREFIX = Join-Path $root 'build/wine-prefix'
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
    Remove-Item Env:WINEPREFIX, Env:WINEDEBUG

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
        $file = Join-Path $results $trx
        if (Test-Path $file) {
            $counters = ([xml](Get-Content -Raw $file)).TestRun.ResultSummary.Counters
            $passed += [int]$counters.passed
            $failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
            Write-Host "$project`: $($counters.passed) passed, $($counters.failed) failed"
            ([xml](Get-Content -Raw $file)).TestRun.Results.UnitTestResult | Where-Object { $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' } |
                ForEach-Object { $failures.Add("$project`: $($_.testName) ($($_.outcome))") }
        } else {
            $broken += "$project (no TRX results)"
        }
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
# check, passed when it exits 0. Release whatever -Configuration says: BenchmarkDotNet refuses
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
}

# ------------------------------------------------------------ NuGet package (-Pack)
# From the managed stage's build when it ran; otherwise pack builds the library itself.
if (Test-Stage 'pack') {
    $packages = Join-Path $root 'artifacts/packages'
    $noBuild = if (Test-Stage 'managed') { @('--no-build') } else { @() }
    Invoke-Step 'pack: NativeKl' {
        dotnet pack (Join-Path $root 'src/NativeKl/NativeKl.csproj') -c $Configuration @noBuild -o $packages -nologo
    }
    Get-ChildItem $packages -Filter 'NativeKl.*.nupkg' | ForEach-Object { Write-Host ("{0} ({1:N0} bytes)" -f $_.FullName, $_.Length) }
}

foreach ($f in $failures) { Write-Host "failed: $f" -ForegroundColor Red }
foreach ($b in $broken) { Write-Host "failed step: $b" -ForegroundColor Red }
Write-Host "$passed passed, $failed failed"
if ($failed -gt 0 -or $broken.Count -gt 0) { exit 1 }
exit 0
