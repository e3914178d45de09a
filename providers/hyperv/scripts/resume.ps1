<#vigil:resume#>
# Takes a cluster node out of its pause (Resume-ClusterNode). Failback is
# the configured policy: NoFailback by default, so that roles move only by
# Vigil's plan or the cluster's own failover, not back all at once.
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
        $node = Get-ClusterNode | Where-Object { $_.Name -eq [string]$a.node }
        if (-not $node) {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('no cluster node with that name'), 'VigilUnknownHost', 'ObjectNotFound', $null)
        }
        if ([string]$node.State -eq 'Paused') {
            Resume-ClusterNode -InputObject $node -Failback ([string]$a.failback) | Out-Null
        }
        $after = Get-ClusterNode | Where-Object { $_.Name -eq [string]$a.node }
        ConvertTo-Json -InputObject ([ordered]@{ state = [string]$after.State }) -Compress
    }
    $reached = Invoke-VigilOnCluster -Seeds @($in.seeds) -Block $block -ArgumentList @($argsJson)
    $node = ConvertFrom-Json ([string]$reached.answer)
    Write-VigilOk ([ordered]@{ via = [string]$reached.via; state = [string]$node.state })
} catch {
    Write-VigilFailure $_
}
