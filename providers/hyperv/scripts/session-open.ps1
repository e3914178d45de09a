<#vigil:session-open#>
# Prepares this PowerShell process for Vigil: remoting settings, the
# credential, and the helpers every other script calls (reading the input,
# writing the one JSON answer, reaching a host). Runs once per process.
param([string]$InputB64)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'
try {
    $in = ConvertFrom-Json ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InputB64)))
    $credential = $null
    if ($in.username -and $in.passwordEnv) {
        # The password comes through this process's environment, never through
        # the command text; it is dropped from the environment once read.
        $plain = [Environment]::GetEnvironmentVariable([string]$in.passwordEnv)
        [Environment]::SetEnvironmentVariable([string]$in.passwordEnv, $null)
        if (-not $plain) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no password in the environment for the remoting account'), 'VigilNoPassword', 'AuthenticationError', $null)
        }
        $secure = ConvertTo-SecureString -String $plain -AsPlainText -Force
        $plain = $null
        $credential = [Management.Automation.PSCredential]::new([string]$in.username, $secure)
    }
    $global:VigilConn = @{
        transport = [string]$in.transport
        username = [string]$in.username
        credential = $credential
        authentication = [string]$in.authentication
        useSsl = [bool]$in.useSsl
        skipCertificateChecks = [bool]$in.skipCertificateChecks
        port = [int]$in.port
        keyFile = [string]$in.keyFile
        openTimeoutMs = [int]$in.openTimeoutMs
        operationTimeoutMs = [int]$in.operationTimeoutMs
        sessions = @{}
    }

    function global:ConvertFrom-VigilInput {
        param([string]$Text)
        ConvertFrom-Json ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Text)))
    }

    # Non-ASCII characters are written as \u escapes, so the answer survives
    # whatever code page the console uses.
    function global:Write-VigilJson {
        param([string]$Json)
        $ascii = [regex]::Replace($Json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
        [Console]::Out.WriteLine($ascii)
    }

    function global:Write-VigilOk {
        param($Result)
        Write-VigilJson (ConvertTo-Json -InputObject ([ordered]@{ ok = $true; result = $Result }) -Depth 10 -Compress)
    }

    # For results that are already JSON text (assembled from remote answers).
    function global:Write-VigilOkJson {
        param([string]$ResultJson)
        Write-VigilJson ('{"ok":true,"result":' + $ResultJson + '}')
    }

    function global:Write-VigilFailure {
        param($Record)
        $failure = [ordered]@{
            type = [string]$Record.Exception.GetType().FullName
            message = [string]$Record.Exception.Message
            category = [string]$Record.CategoryInfo.Category
            id = [string]$Record.FullyQualifiedErrorId
        }
        Write-VigilJson (ConvertTo-Json -InputObject ([ordered]@{ ok = $false; error = $failure }) -Depth 4 -Compress)
    }

    # A refusal of Vigil's own (unknown VM, wrong state) with a stable id the provider maps to an error code.
    function global:Stop-Vigil {
        param([string]$Id, [string]$Category, [string]$Message)
        throw [Management.Automation.ErrorRecord]::new([Exception]::new($Message), $Id, $Category, $null)
    }

    # One remote session per host, opened on first use and reopened when it broke.
    function global:Get-VigilSession {
        param([string]$Computer)
        $c = $global:VigilConn
        $s = $c.sessions[$Computer]
        if ($s -and $s.State -eq 'Opened') {
            return $s
        }
        if ($s) {
            Remove-PSSession -Session $s -ErrorAction SilentlyContinue
            $c.sessions.Remove($Computer)
        }
        if ($c.transport -eq 'ssh') {
            $p = @{ HostName = $Computer; ErrorAction = 'Stop' }
            if ($c.username) {
                $p.UserName = $c.username
            }
            if ($c.keyFile) {
                $p.KeyFilePath = $c.keyFile
            }
            if ($c.port -gt 0) {
                $p.Port = $c.port
            }
        } else {
            $o = New-PSSessionOption -OpenTimeout $c.openTimeoutMs -OperationTimeout $c.operationTimeoutMs -SkipCACheck:$c.skipCertificateChecks -SkipCNCheck:$c.skipCertificateChecks
            $p = @{ ComputerName = $Computer; SessionOption = $o; ErrorAction = 'Stop' }
            if ($c.credential) {
                $p.Credential = $c.credential
            }
            if ($c.authentication) {
                $p.Authentication = $c.authentication
            }
            if ($c.useSsl) {
                $p.UseSSL = $true
            }
            if ($c.port -gt 0) {
                $p.Port = $c.port
            }
        }
        $s = New-PSSession @p
        $c.sessions[$Computer] = $s
        return $s
    }

    function global:Invoke-VigilOn {
        param([string]$Computer, [scriptblock]$Block, [object[]]$ArgumentList)
        Invoke-Command -Session (Get-VigilSession $Computer) -ScriptBlock $Block -ArgumentList $ArgumentList -ErrorAction Stop
    }

    # Runs a block on several hosts at once. A host that cannot be reached, or
    # whose block fails, is reported in errors, not thrown: one dead host must
    # not hide the others. Each block returns one JSON string.
    function global:Invoke-VigilFanOut {
        param([string[]]$Computers, [scriptblock]$Block, [object[]]$ArgumentList)
        $answers = @{}
        $errors = @{}
        $sessions = @()
        foreach ($computer in $Computers) {
            try {
                $sessions += Get-VigilSession $computer
            } catch {
                $errors[$computer] = [string]$_.Exception.Message
            }
        }
        if ($sessions.Count -gt 0) {
            $failed = $null
            $out = Invoke-Command -Session $sessions -ScriptBlock $Block -ArgumentList $ArgumentList -ErrorAction SilentlyContinue -ErrorVariable failed
            foreach ($o in @($out)) {
                $answers[[string]$o.PSComputerName] = [string]$o
            }
            foreach ($f in @($failed)) {
                $name = [string]$f.OriginInfo.PSComputerName
                if (-not $name) {
                    $name = [string]$f.TargetObject
                }
                $errors[$name] = [string]$f.Exception.Message
            }
        }
        return @{ answers = $answers; errors = $errors }
    }

    # Cluster-wide work runs on the first node of Seeds that answers; the
    # answer says which one, so that the caller can follow up there.
    function global:Invoke-VigilOnCluster {
        param([string[]]$Seeds, [scriptblock]$Block, [object[]]$ArgumentList)
        $last = $null
        foreach ($seed in $Seeds) {
            try {
                $answer = Invoke-VigilOn -Computer $seed -Block $Block -ArgumentList $ArgumentList
                return @{ via = $seed; answer = $answer }
            } catch {
                $last = $_
                if ([string]$_.FullyQualifiedErrorId -like 'Vigil*') {
                    throw
                }
            }
        }
        if ($last) {
            throw $last
        }
        Stop-Vigil -Id 'VigilNoSeeds' -Category 'InvalidArgument' -Message 'no cluster node to connect to'
    }

    $version = $PSVersionTable.PSVersion.ToString()
    Write-VigilOk ([ordered]@{ transport = $global:VigilConn.transport; psVersion = $version })
} catch {
    $e = $_
    $failure = [ordered]@{ type = [string]$e.Exception.GetType().FullName; message = [string]$e.Exception.Message; category = [string]$e.CategoryInfo.Category; id = [string]$e.FullyQualifiedErrorId }
    [Console]::Out.WriteLine((ConvertTo-Json -InputObject ([ordered]@{ ok = $false; error = $failure }) -Depth 4 -Compress))
}
