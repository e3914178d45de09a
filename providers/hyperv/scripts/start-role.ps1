<#vigil:start-role#>
# Starts a clustered VM's role on the node Vigil's placement chose, for the
# case the cluster gave up on it (a role left Failed after its failover
# threshold). The cluster still arbitrates ownership, so the role can be
# online on one node only. Returns at once with the job that does it.
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
        $group = Get-ClusterGroup | Where-Object { $_.Name -ceq [string]$a.group }
        if (-not $group) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no cluster role with that name'), 'VigilUnknownVm', 'ObjectNotFound', $null)
        }
        $resource = Get-ClusterResource | Where-Object { [string]$_.ResourceType -eq 'Virtual Machine' -and $_.OwnerGroup.Name -ceq [string]$a.group }
        $vmId = [string](Get-ClusterParameter -InputObject $resource -Name VmId).Value
        if ($vmId -ne [string]$a.vmId) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('the cluster role holds another VM than the one asked for'), 'VigilUnknownVm', 'ObjectNotFound', $null)
        }
        $target = Get-ClusterNode | Where-Object { $_.Name -eq [string]$a.to }
        if (-not $target) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no cluster node with that name'), 'VigilUnknownHost', 'ObjectNotFound', $null)
        }
        if ([string]$group.State -eq 'Online' -or [string]$group.State -eq 'PartialOnline') {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('the role is already online on ' + [string]$group.OwnerNode.Name), 'VigilRefused', 'InvalidOperation', $null)
        }
        $job = Start-Job -ArgumentList ([string]$a.group), ([string]$a.to) -ScriptBlock {
            param([string]$GroupName, [string]$Target)
            $ErrorActionPreference = 'Stop'
            $g = Get-ClusterGroup | Where-Object { $_.Name -ceq $GroupName }
            if ([string]$g.OwnerNode.Name -ne $Target) {
                $g | Move-ClusterGroup -Node $Target | Out-Null
            }
            $g | Start-ClusterGroup | Out-Null
        }
        ConvertTo-Json -InputObject ([ordered]@{ jobId = [string]$job.InstanceId; from = [string]$group.OwnerNode.Name; state = [string]$group.State }) -Compress
    }
    $reached = Invoke-VigilOnCluster -Seeds @($in.seeds) -Block $block -ArgumentList @($argsJson)
    $started = ConvertFrom-Json ([string]$reached.answer)
    Write-VigilOk ([ordered]@{ jobNode = [string]$reached.via; jobId = [string]$started.jobId; from = [string]$started.from; state = [string]$started.state })
} catch {
    Write-VigilFailure $_
}
