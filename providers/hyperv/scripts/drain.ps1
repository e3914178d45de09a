<#vigil:drain#>
# Pauses a cluster node and drains its roles (Suspend-ClusterNode -Drain).
# Without -Wait the cmdlet starts the drain and returns; the node's own
# DrainStatus then tells how it goes, so no job is needed.
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
        if ([string]$node.State -ne 'Up' -and [string]$node.State -ne 'Paused') {
            throw [Management.Automation.ErrorRecord]::new([Exception]::new('the node is ' + [string]$node.State + ', not Up'), 'VigilRefused', 'InvalidOperation', $null)
        }
        if ($a.force) {
            Suspend-ClusterNode -InputObject $node -Drain -ForceDrain | Out-Null
        } else {
            Suspend-ClusterNode -InputObject $node -Drain | Out-Null
        }
        $after = Get-ClusterNode | Where-Object { $_.Name -eq [string]$a.node }
        ConvertTo-Json -InputObject ([ordered]@{ state = [string]$after.State; drainStatus = [string]$after.DrainStatus }) -Compress
    }
    $reached = Invoke-VigilOnCluster -Seeds @($in.seeds) -Block $block -ArgumentList @($argsJson)
    $node = ConvertFrom-Json ([string]$reached.answer)
    Write-VigilOk ([ordered]@{ via = [string]$reached.via; state = [string]$node.state; drainStatus = [string]$node.drainStatus })
} catch {
    Write-VigilFailure $_
}
