<#vigil:register-vm#>
# Restarts a standalone host's VM on another host that reaches the same SMB
# share: registers the VM in place from its configuration file
# (Import-VM -Register, no copy) and starts it in a job. Vigil calls this
# only after the old host was fenced or proven down.
param([string]$InputB64)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
try {
    $in = ConvertFrom-VigilInput $InputB64
    $argsJson = ConvertTo-Json -InputObject $in -Depth 4 -Compress
    $block = {
        param([string]$ArgsJson)
        $ErrorActionPreference = 'Stop'
        $a = ConvertFrom-Json $ArgsJson
        $vm = Get-VM -Id ([guid][string]$a.vmId) -ErrorAction SilentlyContinue
        $registered = $false
        if (-not $vm) {
            if (-not (Test-Path -LiteralPath ([string]$a.configPath))) {
                throw [Management.Automation.ErrorRecord]::new([Exception]::new('this host cannot read the VM configuration file'), 'VigilConfigUnreachable', 'ObjectNotFound', $null)
            }
            $vm = Import-VM -Path ([string]$a.configPath) -Register
            $registered = $true
        }
        if ([string]$vm.VMId -ne [string]$a.vmId) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('the configuration file holds another VM than the one asked for'), 'VigilUnknownVm', 'ObjectNotFound', $null)
        }
        if ([string]$vm.State -eq 'Running') {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('the VM already runs on this host'), 'VigilRefused', 'InvalidOperation', $null)
        }
        $job = Start-Job -ArgumentList ([string]$a.vmId) -ScriptBlock {
            param([string]$VmId)
            $ErrorActionPreference = 'Stop'
            Start-VM -VM (Get-VM -Id ([guid]$VmId)) | Out-Null
        }
        ConvertTo-Json -InputObject ([ordered]@{ jobId = [string]$job.InstanceId; registered = $registered }) -Compress
    }
    $answer = Invoke-VigilOn -Computer ([string]$in.to) -Block $block -ArgumentList @($argsJson)
    $started = ConvertFrom-Json ([string]$answer)
    Write-VigilOk ([ordered]@{ jobNode = [string]$in.to; jobId = [string]$started.jobId; registered = [bool]$started.registered })
} catch {
    Write-VigilFailure $_
}
