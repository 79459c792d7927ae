//! Task inputs that name a service connection, and which of them are Azure Resource Manager
//! identities.

use sluice_pack_sdk::yaml::Node;

use crate::model::Step;

/// Inputs (lower case) whose value is a service connection, whatever the task.
const CONNECTION_INPUTS: &[&str] = &[
    "azuresubscription",
    "azureresourcemanagerconnection",
    "azureserviceconnection",
    "kubernetesserviceconnection",
    "kubernetesserviceendpoint",
    "dockerregistryserviceconnection",
    "dockerregistryendpoint",
    "githubconnection",
    "gitserviceconnection",
    "serviceconnection",
    "sshendpoint",
    "nugetserviceconnections",
    "externalfeedcredentials",
    "externalendpoints",
    "publishfeedcredentials",
    "artifactoryservice",
];

/// Inputs that name an Azure Resource Manager connection.
const ARM_INPUTS: &[&str] = &[
    "azuresubscription",
    "azureresourcemanagerconnection",
    "azureserviceconnection",
    "connectedservicenamearm",
];

/// Tasks whose `ConnectedServiceName` is an Azure Resource Manager connection.
const ARM_TASKS: &[&str] = &[
    "azurecli",
    "azurepowershell",
    "azurermwebappdeployment",
    "azurewebapp",
    "azurefunctionapp",
    "azurewebappcontainer",
    "azurefunctionappcontainer",
    "azureresourcemanagertemplatedeployment",
    "azureresourcegroupdeployment",
    "azurekeyvault",
    "azurefilecopy",
    "azureappservicemanage",
    "azureappservicesettings",
    "azurecontainerapps",
    "azuremysqldeployment",
    "sqlazuredacpacdeployment",
    "azurevmssdeployment",
    "azurespringcloud",
    "azurecloudpowershelldeployment",
    "azureiotedge",
    "packerbuild",
];

/// One service connection a task uses.
#[derive(Debug, Clone, Copy)]
pub struct Connection<'a> {
    pub input: &'a Node,
    pub value: &'a Node,
    /// An Azure Resource Manager identity (subscription access, possibly workload identity).
    pub arm: bool,
}

/// Every service connection input of a task step.
pub fn of_step<'a>(step: &Step<'a>) -> Vec<Connection<'a>> {
    let Some(task) = step.task_base() else {
        return Vec::new();
    };
    let arm_task = ARM_TASKS.contains(&task.as_str());
    step.inputs()
        .into_iter()
        .filter_map(|(key, value)| {
            let name = key.as_str()?.to_ascii_lowercase();
            let arm = ARM_INPUTS.contains(&name.as_str())
                || (arm_task && name.starts_with("connectedservicename"));
            let connection = arm
                || CONNECTION_INPUTS.contains(&name.as_str())
                || name.starts_with("connectedservicename")
                || (task == "docker" && name == "containerregistry");
            (connection && !value.is_null()).then_some(Connection {
                input: key,
                value,
                arm,
            })
        })
        .collect()
}

/// The connection's name as written, for messages.
pub fn name(connection: &Connection<'_>) -> String {
    connection
        .value
        .as_str()
        .map_or_else(|| "(object)".to_owned(), |s| s.trim().to_owned())
}
