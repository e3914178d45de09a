<#vigil:snapshot#>
# Everything Vigil needs about a cluster (or a set of standalone hosts) in
# one invocation: the cluster's own view from one node, then every live
# host's VMs, replication and share access, gathered in parallel. A host that
# cannot be reached is reported as such; it does not fail the snapshot.
param([string]$InputB64)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
try {
    $in = ConvertFrom-VigilInput $InputB64

    $clusterBlock = {
        $ErrorActionPreference = 'Stop'
        $WarningPreference = 'SilentlyContinue'
        $cluster = Get-Cluster
        $nodes = @(Get-ClusterNode | ForEach-Object {
            [ordered]@{ name = [string]$_.Name; id = [string]$_.Id; state = [string]$_.State; status = [string]$_.StatusInformation; drainStatus = [string]$_.DrainStatus }
        })
        # The VM resources' private properties are the cluster's own record of
        # each VM (id, state, start memory), readable even when its node is down.
        $vmParams = @{}
        Get-ClusterResource | Where-Object { [string]$_.ResourceType -eq 'Virtual Machine' } | ForEach-Object {
            $resource = $_
            $p = @{}
            foreach ($q in @(Get-ClusterParameter -InputObject $resource -Name VmId, VmState, StartMemory)) {
                $p[[string]$q.Name] = $q.Value
            }
            $vmParams[[string]$resource.OwnerGroup.Name] = $p
        }
        $groups = @(Get-ClusterGroup | Where-Object { [string]$_.GroupType -eq 'VirtualMachine' } | ForEach-Object {
            $g = $_
            $p = $vmParams[[string]$g.Name]
            $vmId = $null
            $vmState = $null
            $startMemoryMB = $null
            if ($p) {
                $vmId = [string]$p['VmId']
                $vmState = [string]$p['VmState']
                $startMemoryMB = [double]$p['StartMemory']
            }
            [ordered]@{
                name = [string]$g.Name
                id = [string]$g.Id
                owner = [string]$g.OwnerNode.Name
                state = [string]$g.State
                priority = [int]$g.Priority
                antiAffinity = @($g.AntiAffinityClassNames | ForEach-Object { [string]$_ })
                failoverThreshold = [double]$g.FailoverThreshold
                failoverPeriodHours = [double]$g.FailoverPeriod
                persistentState = [int]$g.PersistentState
                vmId = $vmId
                vmState = $vmState
                startMemoryMB = $startMemoryMB
            }
        })
        $csvs = @(Get-ClusterSharedVolume | ForEach-Object {
            $v = $_
            $info = @($v.SharedVolumeInfo)
            [ordered]@{
                name = [string]$v.Name
                id = [string]$v.Id
                owner = [string]$v.OwnerNode.Name
                state = [string]$v.State
                paths = @($info | ForEach-Object { [string]$_.FriendlyVolumeName })
                sizeBytes = ($info | ForEach-Object { [double]$_.Partition.Size } | Measure-Object -Sum).Sum
                freeBytes = ($info | ForEach-Object { [double]$_.Partition.FreeSpace } | Measure-Object -Sum).Sum
            }
        })
        $csvStates = @(Get-ClusterSharedVolumeState | ForEach-Object {
            [ordered]@{ name = [string]$_.Name; node = [string]$_.Node; state = [string]$_.StateInfo; fileSystemReason = [string]$_.FileSystemRedirectedIOReason; blockReason = [string]$_.BlockRedirectedIOReason }
        })
        ConvertTo-Json -InputObject ([ordered]@{ name = [string]$cluster.Name; nodes = $nodes; groups = $groups; csvs = $csvs; csvStates = $csvStates }) -Depth 6 -Compress
    }

    $hostBlock = {
        param([string]$SharesJson)
        $ErrorActionPreference = 'Stop'
        $WarningPreference = 'SilentlyContinue'
        $vmHost = Get-VMHost
        $vms = @(Get-VM | ForEach-Object {
            $v = $_
            [ordered]@{
                id = [string]$v.VMId
                name = [string]$v.Name
                state = [string]$v.State
                cpu = [int]$v.ProcessorCount
                memoryAssignedBytes = [double]$v.MemoryAssigned
                memoryStartupBytes = [double]$v.MemoryStartup
                dynamicMemory = [bool]$v.DynamicMemoryEnabled
                path = [string]$v.Path
                clustered = [bool]$v.IsClustered
                disks = @($v.HardDrives | ForEach-Object { [string]$_.Path })
            }
        })
        $replication = @(Get-VMReplication -ErrorAction SilentlyContinue | Where-Object { [string]$_.Mode -eq 'Primary' } | ForEach-Object {
            $r = $_
            $last = $null
            if ($r.LastReplicationTime -and $r.LastReplicationTime.Year -gt 1601) {
                $last = $r.LastReplicationTime.ToUniversalTime().ToString('o')
            }
            [ordered]@{ vmId = [string]$r.VMId; state = [string]$r.State; health = [string]$r.Health; replicaServer = [string]$r.ReplicaServer; lastReplication = $last }
        })
        $shares = @(@(ConvertFrom-Json $SharesJson) | Where-Object { $_ } | ForEach-Object {
            [ordered]@{ path = [string]$_; reachable = [bool](Test-Path -LiteralPath ([string]$_)) }
        })
        ConvertTo-Json -InputObject ([ordered]@{ cpu = [int]$vmHost.LogicalProcessorCount; memoryBytes = [double]$vmHost.MemoryCapacity; vms = $vms; replication = $replication; shares = $shares }) -Depth 6 -Compress
    }

    $sharesJson = ConvertTo-Json -InputObject @(@($in.shares) | Where-Object { $_ } | ForEach-Object { [string]$_ }) -Compress
    $head = '"mode":' + (ConvertTo-Json -InputObject ([string]$in.mode) -Compress)
    if ($in.mode -eq 'cluster') {
        $reached = Invoke-VigilOnCluster -Seeds @($in.seeds) -Block $clusterBlock
        $clusterJson = [string]$reached.answer
        $cluster = ConvertFrom-Json $clusterJson
        # Only nodes the cluster counts as members are asked; a Down node
        # would only cost a connection timeout.
        $live = @($cluster.nodes | Where-Object { $_.state -eq 'Up' -or $_.state -eq 'Paused' } | ForEach-Object { [string]$_.name })
        $head += ',"via":' + (ConvertTo-Json -InputObject ([string]$reached.via) -Compress) + ',"cluster":' + $clusterJson
    } else {
        $live = @(@($in.hosts) | ForEach-Object { [string]$_ })
    }
    $fan = Invoke-VigilFanOut -Computers $live -Block $hostBlock -ArgumentList @($sharesJson)
    $parts = @()
    foreach ($name in $live) {
        $key = ConvertTo-Json -InputObject $name -Compress
        if ($fan.answers.ContainsKey($name)) {
            $parts += $key + ':{"ok":true,"data":' + $fan.answers[$name] + '}'
        } else {
            $why = 'no answer'
            if ($fan.errors.ContainsKey($name)) {
                $why = $fan.errors[$name]
            }
            $parts += $key + ':{"ok":false,"error":' + (ConvertTo-Json -InputObject ([string]$why) -Compress) + '}'
        }
    }
    Write-VigilOkJson ('{' + $head + ',"hosts":{' + ($parts -join ',') + '}}')
} catch {
    Write-VigilFailure $_
}
