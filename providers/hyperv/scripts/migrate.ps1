<#vigil:migrate#>
# Starts a migration and returns at once with the job that carries it, so
# that the session stays free for snapshots while the VM moves; task-status
# follows the job. Clustered VMs move through the cluster
# (Move-ClusterVirtualMachineRole), standalone ones with Move-VM.
param([string]$InputB64)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
try {
    $in = ConvertFrom-VigilInput $InputB64
    $argsJson = ConvertTo-Json -InputObject $in -Depth 4 -Compress

    $clusterBlock = {
        param([string]$ArgsJson)
        $ErrorActionPreference = 'Stop'
        $a = ConvertFrom-Json $ArgsJson
        $group = Get-ClusterGroup | Where-Object { $_.Name -ceq [string]$a.group }
        if (-not $group) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no cluster role with that name'), 'VigilUnknownVm', 'ObjectNotFound', $null)
        }
        $resource = Get-ClusterResource | Where-Object { [string]$_.ResourceType -eq 'Virtual Machine' -and $_.OwnerGroup.Name -ceq [string]$a.group }
        $vmId = [string](Get-ClusterParameter -InputObject $resource -Name VmId).Value
        if ($vmId -ne [string]$a.vmId) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('the cluster role holds another VM than the one asked for'), 'VigilUnknownVm', 'ObjectNotFound', $null)
        }
        if (-not (Get-ClusterNode | Where-Object { $_.Name -eq [string]$a.to })) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no cluster node with that name'), 'VigilUnknownHost', 'ObjectNotFound', $null)
        }
        $type = 'Live'
        if (-not $a.live) {
            $type = 'Quick'
        }
        $job = Start-Job -ArgumentList ([string]$a.group), ([string]$a.to), $type -ScriptBlock {
            param([string]$GroupName, [string]$Target, [string]$Type)
            $ErrorActionPreference = 'Stop'
            $g = Get-ClusterGroup | Where-Object { $_.Name -ceq $GroupName }
            $g | Move-ClusterVirtualMachineRole -Node $Target -MigrationType $Type | Out-Null
        }
        ConvertTo-Json -InputObject ([ordered]@{ jobId = [string]$job.InstanceId; from = [string]$group.OwnerNode.Name }) -Compress
    }

    $hostBlock = {
        param([string]$ArgsJson)
        $ErrorActionPreference = 'Stop'
        $a = ConvertFrom-Json $ArgsJson
        $vm = Get-VM -Id ([guid][string]$a.vmId) -ErrorAction SilentlyContinue
        if (-not $vm) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no VM with that id on this host'), 'VigilUnknownVm', 'ObjectNotFound', $null)
        }
        $job = Start-Job -ArgumentList ([string]$a.vmId), ([string]$a.to) -ScriptBlock {
            param([string]$VmId, [string]$Target)
            $ErrorActionPreference = 'Stop'
            Move-VM -VM (Get-VM -Id ([guid]$VmId)) -DestinationHost $Target | Out-Null
        }
        ConvertTo-Json -InputObject ([ordered]@{ jobId = [string]$job.InstanceId; from = [string]$env:COMPUTERNAME }) -Compress
    }

    if ($in.clustered) {
        $reached = Invoke-VigilOnCluster -Seeds @($in.seeds) -Block $clusterBlock -ArgumentList @($argsJson)
        $started = ConvertFrom-Json ([string]$reached.answer)
        Write-VigilOk ([ordered]@{ jobNode = [string]$reached.via; jobId = [string]$started.jobId; from = [string]$started.from })
    } else {
        $answer = Invoke-VigilOn -Computer ([string]$in.from) -Block $hostBlock -ArgumentList @($argsJson)
        $started = ConvertFrom-Json ([string]$answer)
        Write-VigilOk ([ordered]@{ jobNode = [string]$in.from; jobId = [string]$started.jobId; from = [string]$in.from })
    }
} catch {
    Write-VigilFailure $_
}
